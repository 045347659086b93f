"""Converting a lazy response message's decoded JSON into its fields, on first use.

Each message class gets a plan once: for every wire key, the field it fills and a converter.
Converters take the shapes JSON decoding produces without asking pydantic (strings, numbers,
nested messages, which become lazy messages in turn, lists and maps of them) and hand
anything else to a pydantic ``TypeAdapter`` of the field's type, so a message converted here
holds exactly what ``model_validate`` would give (fields, ``model_fields_set``,
``model_extra``, unknown enum values kept). A whole message whose keys do not fit a simple
plan (a required field missing, a field given twice) is validated as a whole.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Union

from pydantic import BaseModel, TypeAdapter, ValidationError

from eerest._core.fields import Double
from eerest._core.message import _LENIENT, Message, _instance_dict

__all__ = ["convert", "convert_field"]

Converter = Callable[[Any], Any]
_set = object.__setattr__


class _Mismatch(Exception):
    """A value is not in the shape a fast converter handles: let pydantic decide."""


@dataclass(frozen=True)
class _Plan:
    fields: dict[str, tuple[str, Converter]]  # wire key (alias or name) -> (field name, converter)
    keys: dict[str, tuple[str, ...]]  # field name -> the wire keys that may hold it
    defaults: dict[str, Any]  # every field, in definition order -> None, its default
    required: frozenset[str]  # fields without a default; _WHOLE: let pydantic build every message


def convert_field(message: BaseModel, data: dict[str, Any], name: str, done: dict[str, Any]) -> Any:
    """Convert one field of a lazy message into ``done`` (its instance dict) and return it."""
    plan = _PLANS.get(type(message)) or _plan(type(message))
    present = [k for k in plan.keys[name] if k in data]
    if len(present) != 1 or plan.required:
        if present or plan.required:
            convert(message, data)
            return getattr(message, name)
        done[name] = None
        return None
    value = data[present[0]]
    if value is not None:
        token = _LENIENT.set(True)
        try:
            value = plan.fields[present[0]][1](value)
        finally:
            _LENIENT.reset(token)
    done[name] = value
    return value


_PLANS: dict[type, _Plan] = {}
_WHOLE = "\0"  # not a field name: a plan requiring it sends every message to _validate_whole


def convert(message: BaseModel, data: dict[str, Any]) -> None:
    """Set ``message``'s fields, fields-set and extra from its decoded JSON ``data``."""
    cls = type(message)
    plan = _PLANS.get(cls) or _plan(cls)
    done = _own_dict(message)
    token = _LENIENT.set(True)
    try:
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            entry = plan.fields.get(key)
            if entry is None:
                extra[key] = value
                continue
            name, conv = entry
            if name in values:
                return _validate_whole(message, data)
            if name in done:  # converted alone already (and perhaps changed since)
                values[name] = done[name]
            else:
                values[name] = None if value is None else conv(value)
        if plan.required and not plan.required <= values.keys():
            return _validate_whole(message, data)
        fields_set = set(values)
        fields_set.update(extra)
        state = dict(plan.defaults)  # definition order, as validation gives
        state.update(done)
        state.update(values)
    finally:
        _LENIENT.reset(token)
    _set(message, "__dict__", state)
    _set(message, "__pydantic_fields_set__", fields_set)
    _set(message, "__pydantic_extra__", extra)
    _set(message, "__pydantic_private__", None)


def _own_dict(message: BaseModel) -> dict[str, Any]:
    return _instance_dict.__get__(message, type(message))  # type: ignore[no-any-return]


def _validate_whole(message: BaseModel, data: dict[str, Any]) -> None:
    try:
        done = type(message).model_validate(data)
    except ValidationError as exc:
        raise _decode_error(type(message), exc) from exc
    _set(message, "__dict__", done.__dict__)
    _set(message, "__pydantic_fields_set__", done.__pydantic_fields_set__)
    _set(message, "__pydantic_extra__", done.__pydantic_extra__)
    _set(message, "__pydantic_private__", None)


def _decode_error(cls: type, exc: ValidationError, field: str | None = None) -> Exception:
    from eerest.errors import ResponseDecodeError

    where = f"{cls.__name__}.{field}" if field else cls.__name__
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
    return ResponseDecodeError(f"the server's response does not match {where} ({problems}); it cannot be read as this SDK's type")


def _plan(cls: type[BaseModel]) -> _Plan:
    if not getattr(cls, "__pydantic_fields_complete__", True):
        cls.model_rebuild()  # resolve forward references (recursive messages)
    fields: dict[str, tuple[str, Converter]] = {}
    keys: dict[str, tuple[str, ...]] = {}
    required: set[str] = set()
    for name, info in cls.model_fields.items():
        if info.is_required():
            required.add(name)
        elif info.default_factory is not None or info.default is not None:
            required.add(_WHOLE)  # a default that is not None: leave the whole message to pydantic
        annotation = info.annotation
        if info.metadata:
            annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
        alias = name if info.alias is None else info.alias  # "" is an alias (a property named "")
        conv = _field_converter(cls, alias, annotation)
        fields[name] = (name, conv)
        keys[name] = (name,)
        if alias != name:
            fields[alias] = (name, conv)
            keys[name] = (alias, name)
    plan = _Plan(fields=fields, keys=keys, defaults=dict.fromkeys(cls.model_fields), required=frozenset(required))
    _PLANS[cls] = plan
    return plan


def _field_converter(cls: type, name: str, annotation: Any) -> Converter:
    adapter: list[TypeAdapter[Any]] = []

    def slow(value: Any) -> Any:
        if not adapter:
            adapter.append(TypeAdapter(annotation))
        try:
            return adapter[0].validate_python(value)
        except ValidationError as exc:
            raise _decode_error(cls, exc, name) from exc

    fast = _fast(annotation)
    if fast is None:
        return slow

    def conv(value: Any) -> Any:
        try:
            return fast(value)
        except _Mismatch:
            return slow(value)

    return conv


def _identity(value: Any) -> Any:
    return value


def _fast(annotation: Any) -> Converter | None:
    """A converter for the shapes JSON gives, raising _Mismatch otherwise; None: use pydantic."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1 or len(args) != 2:
            return None
        return _fast(rest[0])  # None itself is handled by the caller
    if annotation is Any:
        return _identity
    if annotation is str:
        return _exact(str)
    if annotation is bool:
        return _exact(bool)
    if annotation is int:
        return _exact(int)
    if annotation is float or annotation is Double:
        return _float  # Double's special strings ("NaN", ...) go to pydantic
    if inspect.isclass(annotation) and issubclass(annotation, Message):
        return _message(annotation)
    if inspect.isclass(annotation) and issubclass(annotation, Enum) and issubclass(annotation, str):
        return _enum(annotation)
    if origin is list and len(args) == 1:
        item = _fast(args[0])
        if item is None:
            return None
        return _list(item)
    if origin is dict and len(args) == 2 and args[0] is str:
        value = _fast(args[1])
        if value is None:
            return None
        return _dict(value)
    return None


def _exact(kind: type) -> Converter:
    def conv(value: Any) -> Any:
        if type(value) is not kind:
            raise _Mismatch
        return value

    return conv


def _float(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _Mismatch


def _message(cls: type[Message]) -> Converter:
    from_wire = cls._from_wire

    def conv(value: Any) -> Any:
        if type(value) is not dict:
            raise _Mismatch
        return from_wire(value)

    return conv


def _enum(cls: type[Enum]) -> Converter:
    def conv(value: Any) -> Any:
        if type(value) is not str:
            raise _Mismatch
        try:
            return cls(value)
        except ValueError:
            raise _Mismatch from None

    return conv


def _list(item: Converter) -> Converter:
    if item is _identity:

        def same(value: Any) -> Any:
            if type(value) is not list:
                raise _Mismatch
            return value

        return same

    def conv(value: Any) -> Any:
        if type(value) is not list:
            raise _Mismatch
        return [item(v) for v in value]

    return conv


def _dict(item: Converter) -> Converter:
    if item is _identity:

        def same(value: Any) -> Any:
            if type(value) is not dict:
                raise _Mismatch
            return value

        return same

    def conv(value: Any) -> Any:
        if type(value) is not dict:
            raise _Mismatch
        return {k: item(v) for k, v in value.items()}

    return conv
