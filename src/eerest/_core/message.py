"""The base of every generated message class and enum.

Requests are strict (an unknown field or enum value is a mistake worth an error before
anything is sent); responses are lenient (a newer server may send fields and enum values
this SDK does not know yet, and they are kept, not dropped).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    model_serializer,
    model_validator,
)

__all__ = ["Message", "OpenEnum", "lenient", "parse_response", "to_wire"]

_LENIENT: ContextVar[bool] = ContextVar("eerest_lenient", default=False)
M = TypeVar("M", bound=BaseModel)


@contextmanager
def lenient() -> Iterator[None]:
    """Within this block, validation accepts unknown fields and enum values."""
    token = _LENIENT.set(True)
    try:
        yield
    finally:
        _LENIENT.reset(token)


class Message(BaseModel):
    """An API message: snake_case attributes, the API's camelCase names as aliases."""

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        protected_namespaces=(),
    )

    @model_validator(mode="wrap")
    @classmethod
    def _reject_unknown_fields(cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        if isinstance(data, dict) and not _LENIENT.get():
            unknown = [k for k in data if k not in _known_names(cls)]
            if unknown:
                known = ", ".join(sorted(f.alias or n for n, f in cls.model_fields.items()))
                raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))} for {cls.__name__}; known fields: {known}")
        return handler(data)

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
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


_KNOWN: dict[type, frozenset[str]] = {}


def _known_names(cls: type[BaseModel]) -> frozenset[str]:
    names = _KNOWN.get(cls)
    if names is None:
        names = frozenset(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        _KNOWN[cls] = names
    return names


_FREE_FORM: dict[type, frozenset[str]] = {}


def _free_form_names(cls: type[BaseModel]) -> frozenset[str]:
    names = _FREE_FORM.get(cls)
    if names is None:
        free = [(n, f) for n, f in cls.model_fields.items() if f.annotation in (Any, Any | None)]
        names = frozenset(n for n, _ in free) | {f.alias for _, f in free if f.alias}
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


def parse_response(model: type[M], data: Any) -> M:
    """Validate a decoded JSON response, keeping what this SDK does not know."""
    with lenient():
        return model.model_validate(data)


def to_wire(model: type[Message], value: Any) -> dict[str, Any]:
    """A request message (instance or dict, camelCase or snake_case keys) in JSON form."""
    message = value if isinstance(value, model) else model.model_validate(value)
    wire: dict[str, Any] = message.to_dict()
    return wire
