"""Message classes: the IR's messages as JSON Schema, rendered by datamodel-code-generator.

Formats the JSON Schema cannot express (int64 as a string on the wire, base64 bytes,
RFC 3339 timestamps, ...) and enums (rendered by our own template, so that they accept
values a newer server sends) are named by ``customTypePath``.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from .ir import Api, TypeRef

__all__ = ["RUNTIME", "message_module_source", "json_schema"]

RUNTIME = "eerest._core"

# Discovery string formats that need more than ``str`` (see eerest._core.fields).
_STRING_FORMATS = {
    "int64": "Int64",
    "uint64": "UInt64",
    "byte": "Base64Bytes",
    "google-datetime": "Timestamp",
    "date-time": "Timestamp",
    "date": "Date",
    "google-duration": "Duration",
    "google-fieldmask": "FieldMask",
}
_NUMBER_FORMATS = {"double": "Double", "float": "Double"}


def _type_schema(t: TypeRef, enums_module: str) -> dict[str, Any]:
    if t.kind == "message":
        return {"$ref": f"#/definitions/{t.name}"}
    if t.kind == "enum":
        return {"customTypePath": f"{enums_module}.{t.name}"}
    if t.kind == "array":
        assert t.item is not None
        return {"type": "array", "items": _type_schema(t.item, enums_module)}
    if t.kind == "map":
        assert t.item is not None
        return {"type": "object", "additionalProperties": _type_schema(t.item, enums_module)}
    if t.kind == "string" and t.format in _STRING_FORMATS:
        return {"customTypePath": f"{RUNTIME}.fields.{_STRING_FORMATS[t.format]}"}
    if t.kind == "number":
        return {"customTypePath": f"{RUNTIME}.fields.{_NUMBER_FORMATS.get(t.format or '', 'Double')}"}
    if t.kind == "any":
        return {}
    return {"type": t.kind}


def _description(text: str) -> str:
    """A description datamodel-code-generator can put in a docstring verbatim: one that
    ends with a quote character (``Example: "Grass"``) would end the docstring early."""
    text = text.replace('"""', "'''").replace("\\", "\\\\")
    return text + "." if text.endswith('"') else text


def json_schema(api: Api, enums_module: str) -> dict[str, Any]:
    """A draft-07 JSON Schema whose definitions are the API's messages."""
    definitions = {}
    for message in api.messages:
        properties = {}
        for f in message.fields:
            prop = _type_schema(f.type, enums_module)
            if f.description:
                prop["description"] = _description(f.description)
            properties[f.name] = prop
        definitions[message.name] = {
            "type": "object",
            "properties": properties,
            **({"description": _description(message.description)} if message.description else {}),
        }
    return {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": definitions}


def message_module_source(api: Api, enums_module: str) -> str:
    """The body of ``types.py`` (without our header): one pydantic v2 class per message."""
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import DataModelType, InputFileType
    from datamodel_code_generator.format import Formatter, PythonVersion

    schema = json_schema(api, enums_module)
    if not schema["definitions"]:
        return "from __future__ import annotations\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = generate(
            schema,
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_310,
            base_class=f"{RUNTIME}.message.Message",
            snake_case_field=True,
            use_standard_collections=True,
            use_union_operator=True,
            use_schema_description=True,
            use_field_description=True,
            field_constraints=True,
            disable_timestamp=True,
            use_double_quotes=True,
            capitalise_enum_members=True,
            use_single_line_docstring=True,
            formatters=[Formatter.BUILTIN],  # ruff formats the whole module afterwards
            custom_file_header="",
            # every attribute named as the IR names it (codegen.naming.field_name): the same
            # name as the methods' keyword arguments
            aliases={f"{m.name}.{f.name}": f.py_name for m in api.messages for f in m.fields if f.py_name != f.name},
        )
    assert isinstance(source, str)
    source = _alias_renamed(_tidy(source), [m.name for m in api.messages])
    _check_field_names(source, api)
    return source


def _check_field_names(source: str, api: Api) -> None:
    """Every message attribute is named as the IR names it (the methods' keywords use the
    same names): a datamodel-code-generator that renamed one fails generation here."""
    import ast

    classes = {
        node.name: [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef)
    }
    for message in api.messages:
        found = classes.get(message.name, classes.get(message.name.replace("_", "")))
        wanted = [f.py_name for f in message.fields]
        if found is not None and sorted(found) != sorted(wanted):
            raise RuntimeError(
                f"datamodel-code-generator named the fields of {message.name} {sorted(found)}, not {sorted(wanted)}"
            )


def _alias_renamed(source: str, names: list[str]) -> str:
    """datamodel-code-generator drops ``_`` from class names; make the discovery name work too."""
    aliases = []
    for name in names:
        if f"class {name}(" in source:
            continue
        renamed = name.replace("_", "")
        if f"class {renamed}(" not in source:
            raise RuntimeError(f"datamodel-code-generator wrote no class for schema {name!r}")
        aliases.append(f"{name} = {renamed}")
    return source + ("\n" + "\n".join(aliases) + "\n" if aliases else "")


_CONFIG_BLOCK = re.compile(r"\n    model_config = ConfigDict\(\n        arbitrary_types_allowed=True,\n    \)\n")
_ROOT_MODEL = re.compile(r"\n\nclass Model\(RootModel\[Any\]\):\n(?:    .*\n|\n)*?(?=\n\nclass |\Z)")
_REBUILD = re.compile(r"\w+\.model_rebuild\(\)")
_PYDANTIC_IMPORT = re.compile(r"^from pydantic import (.+)$", re.MULTILINE)


def _tidy(source: str) -> str:
    """Drop what datamodel-code-generator adds that ``types.py`` does not need: its
    header, the empty root model, the ``arbitrary_types_allowed`` config it writes for
    custom types (ours are pydantic-native annotated types), and its ``model_rebuild()``
    calls (pydantic resolves forward references on first use; the calls would build those
    classes' validators at import, defeating ``defer_build``)."""
    source = "\n".join(
        line
        for line in source.splitlines()
        if not line.startswith(("# generated by datamodel", "#   filename:")) and not _REBUILD.fullmatch(line)
    )
    source = _CONFIG_BLOCK.sub("\n", source)
    source = _ROOT_MODEL.sub("", source)
    match = _PYDANTIC_IMPORT.search(source)
    if match:
        body = source[match.end() :]
        used = [n.strip() for n in match.group(1).split(",") if re.search(rf"\b{n.strip()}\b", body)]
        source = source[: match.start()] + (f"from pydantic import {', '.join(used)}" if used else "") + body
    return source.strip("\n") + "\n"
