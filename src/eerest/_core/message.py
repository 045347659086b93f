"""The base of every generated message class and enum.

Requests are strict (an unknown field or enum value is a mistake worth an error before
anything is sent); responses are lenient (a newer server may send fields and enum values
this SDK does not know yet, and they are kept, not dropped).

Responses are also *lazy*: :func:`parse_response` wraps the decoded JSON without walking
it, and each message converts its own fields the first time anything reads it (an
attribute, ``model_extra``, ``to_dict()``, ``==``, ``repr``, a copy or a pickle), giving
exactly what eager validation gives. A page of 1,000 assets then costs about what
``json.loads`` of it costs, and only the parts a program reads are ever built
(see :mod:`eerest._core.lazy_fields`). Two threads reading one lazy message at the same moment
may both convert it; they get equal values.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

__all__ = ["Message", "OpenEnum", "lenient", "parse_response", "to_wire"]

_LENIENT: ContextVar[bool] = ContextVar("eerest_lenient", default=False)
M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__
_get = object.__getattribute__


class lenient:
    """Within this block, validation accepts unknown fields and enum values. (A class, not a
    generator-based context manager: it is entered once per response.)"""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _LENIENT.set(True)

    def __exit__(self, *exc: object) -> None:
        _LENIENT.reset(self._token)


class Message(BaseModel):
    """An API message: snake_case attributes, the API's camelCase names as aliases."""

    # The decoded JSON of a response message whose fields are not converted yet (unset on
    # messages built by validation, None once converted).
    __slots__ = ("_wire",)

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        protected_namespaces=(),
        # Build each class's validator on first use: importing a version stays cheap, and
        # classes a program never validates (most response classes) are never built.
        defer_build=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        # A "before" validator: pydantic calls it with less ceremony than a "wrap" one, and
        # it runs for every nested message of every response.
        if not _LENIENT.get() and isinstance(data, dict):
            unknown = [k for k in data if k not in _known_names(cls)]
            if unknown:
                known = ", ".join(sorted(repr(_wire_name(n, f)) for n, f in cls.model_fields.items()))
                raise ValueError(
                    f"unknown field(s) {', '.join(map(repr, unknown))} for {cls.__name__}; known fields: {known}"
                )
        return data

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        # null means "not set" on the wire, except in free-form (type: any) fields where
        # it is a value, e.g. ValueNode.constantValue.
        data = handler(self)
        if isinstance(data, dict):
            keep = _free_form_names(type(self))
            return {k: v for k, v in data.items() if v is not None or k in keep}
        return data

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API uses: camelCase keys, only the fields that were set."""
        _materialize_all(self)  # so a response field that cannot be read raises its own error
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    # -- lazy responses ---------------------------------------------------------------
    # Everything that reads a message's state goes through ``__dict__`` (pydantic's
    # serializer, ==, repr, copies, pickles, vars()) or through one of pydantic's slots
    # (model_extra, model_fields_set), which a lazy message leaves unset so that
    # ``__getattr__`` runs; either way the fields are converted first.

    @classmethod
    def _from_wire(cls, data: dict[str, Any]) -> Any:
        """A message holding trusted decoded JSON, converted on first use."""
        self = cls.__new__(cls)
        _set(self, "_wire", data)
        _set(self, "__pydantic_private__", None)
        return self

    @property
    def __dict__(self) -> dict[str, Any]:
        _materialize(self)
        return _instance_dict.__get__(self, type(self))  # type: ignore[no-any-return]

    @__dict__.setter
    def __dict__(self, value: dict[str, Any]) -> None:
        _instance_dict.__set__(self, value)
        _set(self, "_wire", None)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Reached for a field (or pydantic slot) a lazy message has not set yet: a field
            # is converted alone, anything else converts the whole message.
            if name != "_wire":
                data = _wire(self)
                if data is not None:
                    wire = _wire_module()
                    if name in type(self).__pydantic_fields__:
                        return wire.convert_field(self, data, name, _instance_dict.__get__(self, type(self)))
                    wire.convert(self, data)
                    return getattr(self, name)
            return super().__getattr__(name)


_instance_dict = BaseModel.__dict__["__dict__"]


def _wire(message: BaseModel) -> dict[str, Any] | None:
    try:
        return _get(message, "_wire")  # type: ignore[no-any-return]
    except AttributeError:  # not initialised yet
        return None


def _materialize(message: BaseModel) -> bool:
    """Convert a lazy message's fields now; False if there was nothing to convert."""
    data = _wire(message)
    if data is None:
        return False
    _wire_module().convert(message, data)  # sets __dict__, and so _wire to None
    return True


@functools.cache
def _wire_module() -> Any:
    from eerest._core import lazy_fields  # imports this module: not at the top

    return lazy_fields


def _materialize_all(message: BaseModel) -> None:
    """Convert a message and every message in its fields (lists and maps of them too)."""
    for value in message.__dict__.values():  # reading __dict__ converts a lazy message
        if isinstance(value, BaseModel):
            _materialize_all(value)
        elif isinstance(value, (list, dict)):
            for item in value.values() if isinstance(value, dict) else value:
                if isinstance(item, BaseModel):
                    _materialize_all(item)


def _wire_name(name: str, info: Any) -> str:
    """A field's name on the wire: its alias, which may be "" (a property named "")."""
    return name if info.alias is None else str(info.alias)


_KNOWN: dict[type, frozenset[str]] = {}


def _known_names(cls: type[BaseModel]) -> frozenset[str]:
    names = _KNOWN.get(cls)
    if names is None:
        names = frozenset(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias is not None}
        _KNOWN[cls] = names
    return names


_FREE_FORM: dict[type, frozenset[str]] = {}


def _free_form_names(cls: type[BaseModel]) -> frozenset[str]:
    names = _FREE_FORM.get(cls)
    if names is None:
        free = [(n, f) for n, f in cls.model_fields.items() if f.annotation in (Any, Any | None)]
        names = frozenset(n for n, _ in free) | {f.alias for _, f in free if f.alias is not None}
        _FREE_FORM[cls] = names
    return names


class OpenEnum(str, Enum):
    """An enum that, in responses, also holds values a newer server sends.

    ``ImageFileFormat("NPY")`` is a member; ``ImageFileFormat("NEW")`` is one too while
    parsing a response, with ``.value == "NEW"``, and a ``ValueError`` otherwise.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not (_LENIENT.get() and isinstance(value, str)):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    # Members are immutable: a copy is the member itself. (Python < 3.11.? copies enums by
    # name, which fails for the values a newer server sent.)
    def __copy__(self) -> OpenEnum:
        return self

    def __deepcopy__(self, memo: Any) -> OpenEnum:
        return self

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # Enum pickles members as cls(value), which refuses a value a newer server sent.
        return _open_enum_member, (type(self), self._value_)


def _open_enum_member(cls: type[OpenEnum], value: str) -> OpenEnum:
    """Unpickle an OpenEnum member, known or not."""
    with lenient():
        return cls(value)


def parse_response(model: type[M], data: Any) -> M:
    """A response message from decoded JSON, keeping what this SDK does not know.

    Messages are converted lazily (see the module docstring); anything that is not a JSON
    object of a message class is validated at once.
    """
    if isinstance(data, dict) and issubclass(model, Message):
        return model._from_wire(data)  # type: ignore[no-any-return]
    with lenient():
        return model.model_validate(data)


def to_wire(model: type[Message], value: Any) -> dict[str, Any]:
    """A request message (instance or dict, camelCase or snake_case keys) in JSON form."""
    message = value if isinstance(value, model) else model.model_validate(value)
    wire: dict[str, Any] = message.to_dict()
    return wire
