"""One naming rule: a property's Python name is the same as the message attribute, in
``Message(x=...)`` and as the generated method's keyword (``codegen.naming.field_name``)."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen.discovery import load_api
from codegen.naming import ANNOTATION_NAMES, MESSAGE_ATTRIBUTES, field_name, python_name
from codegen.pipeline import generate_standalone

HOSTILE = Path(__file__).parent / "hostile"


def test_message_attributes_cover_every_public_attribute_of_message() -> None:
    # fixed in codegen (output must not depend on the installed pydantic); an upgrade that
    # adds an attribute fails here, and the name is added to the list
    from eerest._core.message import Message

    assert {n for n in dir(Message) if not n.startswith("_")} <= MESSAGE_ATTRIBUTES


@pytest.mark.parametrize(
    ("wire", "taken", "name"),
    [
        ("crsCode", (), "crs_code"),
        ("", (), "field"),
        ("$", (), "field"),
        ("2d", (), "field_2d"),
        ("class", (), "class_"),
        ("match", (), "match_"),
        ("type", (), "type"),  # a plain name, not escaped
        ("to_dict", (), "to_dict_"),
        ("model_config", (), "model_config_"),
        ("copy", (), "copy_"),
        ("list", (), "list_"),
        ("__init__", (), "init"),
        ("fooBar", ("foo_bar",), "foo_bar_"),  # another property's wire name
        ("self", (), "self"),
        ("timeout", (), "timeout"),
    ],
)
def test_field_name(wire: str, taken: tuple[str, ...], name: str) -> None:
    assert field_name(wire, taken) == name
    assert name.isidentifier() and not name.startswith("_")


def test_python_name_never_starts_with_an_underscore() -> None:
    for wire in ("_", "__x", "_1", "1", "", "ü", "-a"):
        assert python_name(wire)[0] != "_" and python_name(wire).isidentifier()
    assert "list" in ANNOTATION_NAMES


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("names")
    generate_standalone(HOSTILE / "names.json", out, "names_v1")
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("names_v1")
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n.startswith("names_v1")]:
            del sys.modules[name]


def test_every_property_round_trips_under_one_name(names: Any) -> None:
    doc = json.loads((HOSTILE / "names.json").read_text(encoding="utf-8"))
    api = load_api(doc)
    thing = next(m for m in api.messages if m.name == "Thing")
    cls = names.types.Thing
    from google.auth.credentials import AnonymousCredentials

    method = inspect.signature(names.Client("p", credentials=AnonymousCredentials()).class_.import_)
    for f in thing.fields:
        value: Any = {} if f.type.kind == "message" else [] if f.type.kind == "array" else "v"
        message = cls(**{f.py_name: value})  # the keyword ...
        assert getattr(message, f.py_name) == value or value in ({}, [])  # ... the attribute ...
        assert f.name in message.to_dict()  # ... and the wire name ("" included)
        assert cls.model_validate({f.name: value}).to_dict() == message.to_dict()
        # the method's keyword: the same name, or body_ + it where a parameter or option has it
        keyword = f.py_name if f.py_name in method.parameters else "body_" + f.py_name
        assert keyword in method.parameters, f.name
    assert cls.model_fields["to_dict_"].alias == "to_dict"
    assert callable(cls().to_dict)  # a property named to_dict no longer hides the method


def test_a_property_named_empty_decodes_from_a_response(names: Any) -> None:
    from eerest._core.message import parse_response

    message = parse_response(names.types.Thing, {"": "a", "to_dict": "b", "size": 1})
    assert message.field == "a" and message.to_dict_ == "b"
    assert message.to_dict() == {"": "a", "to_dict": "b", "size": 1}
