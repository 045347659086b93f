"""Algorithms on plain values: Number, String, List, Dictionary, Date, DateRange and element properties.

These are what `getInfo()` of computed values exercises; each implements the real
algorithm of the same name (signature from the catalogue).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

from .._catalogue import catalogue
from .._image import Image, ImageCollection
from .._reducers import Reducer
from .._values import Date, DateRange, Feature
from .coerce import as_image, is_number, to_ms
from .framework import AlgorithmError, ArgumentTypeError, Context, Filter, implements

__all__: list[str] = []


def _number(v: Any, arg: str) -> int | float:
    if isinstance(v, bool):
        return int(v)
    if is_number(v):
        return v
    raise ArgumentTypeError(arg, "Number", v)


def _int(v: Any, arg: str) -> int:
    n = _number(v, arg)
    return int(n)


def _string(v: Any, arg: str) -> str:
    if isinstance(v, str):
        return v
    raise ArgumentTypeError(arg, "String", v)


def _list(v: Any, arg: str) -> list:
    if isinstance(v, list):
        return v
    raise ArgumentTypeError(arg, "List", v)


def _dict(v: Any, arg: str) -> dict:
    if isinstance(v, dict):
        return v
    raise ArgumentTypeError(arg, "Dictionary", v)


def _fn(v: Any, arg: str) -> Callable[..., Any]:
    if callable(v):
        return v
    raise ArgumentTypeError(arg, "Algorithm", v)


# ---------------------------------------------------------------------------------------
# Number
# ---------------------------------------------------------------------------------------
def _div(a: float, b: float) -> float | int:
    if b == 0:
        return 0
    q = a / b
    return int(q) if isinstance(a, int) and isinstance(b, int) and a % b == 0 else q


_NUMBER_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": _div,
    "mod": lambda a, b: 0 if b == 0 else math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b)),
    "pow": lambda a, b: a**b if not (a == 0 and b < 0) else math.inf,
    "min": min,
    "max": max,
    "gt": lambda a, b: int(a > b),
    "gte": lambda a, b: int(a >= b),
    "lt": lambda a, b: int(a < b),
    "lte": lambda a, b: int(a <= b),
    "eq": lambda a, b: int(a == b),
    "neq": lambda a, b: int(a != b),
    "and": lambda a, b: int(bool(a) and bool(b)),
    "or": lambda a, b: int(bool(a) or bool(b)),
    "atan2": math.atan2,
    "hypot": math.hypot,
}
for _op, _f in _NUMBER_BINARY.items():
    implements(f"Number.{_op}")(
        lambda ctx, left, right, _f=_f: _f(_number(left, "left"), _number(right, "right"))
    )


def _round(x: float) -> int | float:
    return math.floor(x + 0.5) if isinstance(x, float) else x


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


def _log(f: Callable[[float], float]) -> Callable[[float], float]:
    return lambda x: f(x) if x > 0 else math.nan


_NUMBER_UNARY: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "sqrt": _sqrt,
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "log": _log(math.log),
    "log10": _log(math.log10),
    "exp": math.exp,
    "ceil": lambda x: math.ceil(x) if isinstance(x, float) else x,
    "floor": lambda x: math.floor(x) if isinstance(x, float) else x,
    "round": _round,
    "signum": lambda x: (x > 0) - (x < 0),
    "not": lambda x: int(not x),
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "float": float,
    "double": float,
    "toFloat": float,
    "toDouble": float,
}
_INT_CASTS = {"Int8": (-(2**7), 2**7 - 1), "Uint8": (0, 255), "Int16": (-(2**15), 2**15 - 1), "Uint16": (0, 2**16 - 1),
              "Int32": (-(2**31), 2**31 - 1), "Uint32": (0, 2**32 - 1), "Int64": (-(2**63), 2**63 - 1),
              "Byte": (0, 255), "Short": (-(2**15), 2**15 - 1), "Int": (-(2**31), 2**31 - 1), "Long": (-(2**63), 2**63 - 1)}
for _suffix, (_lo, _hi) in _INT_CASTS.items():
    for _name in (f"to{_suffix}", _suffix.lower()):
        _NUMBER_UNARY[_name] = lambda x, _lo=_lo, _hi=_hi: min(max(int(x), _lo), _hi)
for _op, _unary in _NUMBER_UNARY.items():
    if f"Number.{_op}" in catalogue():
        implements(f"Number.{_op}")(lambda ctx, input, _f=_unary: _f(_number(input, "input")))


@implements("Number.clamp")
def number_clamp(ctx: Context, number: Any, min: Any, max: Any) -> Any:
    n = _number(number, "number")
    return n if n != n else (min if n < min else max if n > max else n)


@implements("Number.parse")
def number_parse(ctx: Context, input: Any, radix: Any = 10) -> Any:
    s = _string(input, "input").strip()
    try:
        return int(s, int(radix)) if int(radix) != 10 or re.fullmatch(r"[+-]?\d+", s) else float(s)
    except ValueError:
        raise AlgorithmError(f"Unable to parse '{s}' as a number.") from None


@implements("Number.format")
def number_format(ctx: Context, number: Any, pattern: Any = "%s") -> str:
    n = _number(number, "number")
    try:
        return _string(pattern, "pattern") % n
    except (TypeError, ValueError):
        raise AlgorithmError(f"Invalid format pattern '{pattern}'.") from None


# ---------------------------------------------------------------------------------------
# String
# ---------------------------------------------------------------------------------------
@implements("String")
def string(ctx: Context, input: Any) -> str:
    if isinstance(input, str):
        return input
    if is_number(input):
        return str(input)
    return json.dumps(input)


def _flags(flags: Any) -> int:
    f = 0
    for ch in flags or "":
        f |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}.get(ch, 0)
    return f


def _match(text: str, regex: str, flags: str) -> list[str]:
    """As JavaScript's String.match: every match with 'g', else the match and its groups."""
    if "g" in flags:
        return [m.group(0) for m in re.finditer(regex, text, _flags(flags))]
    m = re.search(regex, text, _flags(flags))
    return [m.group(0), *(g or "" for g in m.groups())] if m else []


_STRING: dict[str, Callable[..., Any]] = {
    "cat": lambda ctx, string1, string2: _string(string1, "string1") + _string(string2, "string2"),
    "length": lambda ctx, string: len(_string(string, "string")),
    "toUpperCase": lambda ctx, string: _string(string, "string").upper(),
    "toLowerCase": lambda ctx, string: _string(string, "string").lower(),
    "trim": lambda ctx, string: _string(string, "string").strip(),
    "compareTo": lambda ctx, string1, string2: (string1 > string2) - (string1 < string2),
    "equals": lambda ctx, reference, target: reference == target,
    "index": lambda ctx, target, pattern: _string(target, "target").find(pattern),
    "rindex": lambda ctx, target, pattern: _string(target, "target").rfind(pattern),
    "slice": lambda ctx, string, start, end=None: _string(string, "string")[_int(start, "start"):None if end is None else _int(end, "end")],
    "split": lambda ctx, string, regex, flags="": [p for p in re.split(regex, _string(string, "string"), flags=_flags(flags))],
    "match": lambda ctx, input, regex, flags="": _match(_string(input, "input"), _string(regex, "regex"), flags or ""),
    "replace": lambda ctx, input, regex, replacement, flags="": re.sub(
        regex, re.sub(r"\$(\d)", r"\\\1", replacement), input, count=0 if "g" in (flags or "") else 1, flags=_flags(flags)),
    "encodeJSON": lambda ctx, object: json.dumps(object, separators=(",", ":")),
    "decodeJSON": lambda ctx, string: json.loads(_string(string, "string")),
}
for _op, _string_fn in _STRING.items():
    implements(f"String.{_op}")(_string_fn)


# ---------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------
def _index(lst: list, i: Any, arg: str = "index") -> int:
    k = _int(i, arg)
    if k < 0:
        k += len(lst)
    if not 0 <= k < len(lst):
        raise AlgorithmError(f"List.get: List index must be between {-len(lst)} and {len(lst) - 1}, got {i}.")
    return k


def _sort_key(v: Any) -> tuple:
    if v is None:
        return (2, 0)
    if is_number(v):
        return (0, v)
    return (1, str(v))


def _sequence(ctx: Context, start: Any, end: Any = None, step: Any = 1, count: Any = None) -> list:
    s = _number(start, "start")
    st = _number(step if step is not None else 1, "step")
    if count is not None:
        return [s + i * st for i in range(_int(count, "count"))]
    if end is None:
        raise AlgorithmError("List.sequence: either end or count must be given.")
    if st == 0:
        raise AlgorithmError("List.sequence: step must not be 0.")
    out, x = [], s
    while (st > 0 and x <= end) or (st < 0 and x >= end):
        out.append(x)
        x = x + st
    return out


def _flatten(v: list) -> list:
    out: list = []
    for x in v:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


def _splice(lst: list, k: int, n: int, new: list) -> list:
    return [*lst[:k], *new, *lst[k + n :]]


def _replace_first(lst: list, old: Any, new: list) -> list:
    return _splice(lst, lst.index(old), 1, new) if old in lst else lst


def _list_sort(ctx: Context, list: Any, keys: Any = None) -> list:
    lst = _list(list, "list")
    if keys is None:
        return sorted(lst, key=_sort_key)
    return [x for _, x in sorted(zip(_list(keys, "keys"), lst, strict=True), key=lambda p: _sort_key(p[0]))]


def _list_map(ctx: Context, list: Any, baseAlgorithm: Any, dropNulls: Any = False) -> list:
    fn = _fn(baseAlgorithm, "baseAlgorithm")
    out = [fn(x) for x in _list(list, "list")]
    return [x for x in out if x is not None] if dropNulls else out


def _list_iterate(ctx: Context, list: Any, function: Any, first: Any) -> Any:
    fn, acc = _fn(function, "function"), first
    for x in _list(list, "list"):
        acc = fn(x, acc)
    return acc


def _list_reduce(ctx: Context, list: Any, reducer: Any) -> Any:
    if not isinstance(reducer, Reducer):
        raise ArgumentTypeError("reducer", "Reducer", reducer)
    out = reducer.reduce([_list(list, "list")] * reducer.inputs)
    return out[reducer.outputs[0]] if len(reducer.outputs) == 1 else out


def _list_filter(ctx: Context, list: Any, filter: Any) -> list:
    if not isinstance(filter, Filter):
        raise ArgumentTypeError("filter", "Filter", filter)
    return [x for x in _list(list, "list") if filter.test(Image([], {"item": x}))]


_LIST: dict[str, Callable[..., Any]] = {
    "get": lambda ctx, list, index: list[_index(_list(list, "list"), index)],
    "getNumber": lambda ctx, list, index: list[_index(_list(list, "list"), index)],
    "getString": lambda ctx, list, index: list[_index(_list(list, "list"), index)],
    "getGeometry": lambda ctx, list, index: list[_index(_list(list, "list"), index)],
    "size": lambda ctx, list: len(_list(list, "list")),
    "length": lambda ctx, list: len(_list(list, "list")),
    "slice": lambda ctx, list, start, end=None, step=None: _list(list, "list")[
        _int(start, "start"):None if end is None else _int(end, "end"):None if step is None else _int(step, "step")],
    "add": lambda ctx, list, element: [*_list(list, "list"), element],
    "cat": lambda ctx, list, other: [*_list(list, "list"), *_list(other, "other")],
    "contains": lambda ctx, list, element: element in _list(list, "list"),
    "containsAll": lambda ctx, list, other: all(x in list for x in _list(other, "other")),
    "equals": lambda ctx, list, other: list == other,
    "indexOf": lambda ctx, list, element: _list(list, "list").index(element) if element in list else -1,
    "frequency": lambda ctx, list, element: _list(list, "list").count(element),
    "reverse": lambda ctx, list: _list(list, "list")[::-1],
    "flatten": lambda ctx, list: _flatten(_list(list, "list")),
    "distinct": lambda ctx, list: [x for i, x in enumerate(_list(list, "list")) if x not in list[:i]],
    "remove": lambda ctx, list, element: _replace_first(_list(list, "list"), element, []),
    "removeAll": lambda ctx, list, other: [x for x in _list(list, "list") if x not in _list(other, "other")],
    "insert": lambda ctx, list, index, element: _splice(_list(list, "list"), _int(index, "index"), 0, [element]),
    "set": lambda ctx, list, index, element: _splice(_list(list, "list"), _index(list, index), 1, [element]),
    "zip": lambda ctx, list, other: [[a, b] for a, b in zip(_list(list, "list"), _list(other, "other"), strict=False)],
    "unzip": lambda ctx, list: [[*t] for t in zip(*_list(list, "list"), strict=False)],
    "repeat": lambda ctx, value, count: [value] * _int(count, "count"),
    "rotate": lambda ctx, list, distance: (lambda lst, d: lst[-d:] + lst[:-d] if lst else lst)(_list(list, "list"), _int(distance, "distance") % max(len(list), 1)),
    "join": lambda ctx, list, separator="": separator.join(x if isinstance(x, str) else json.dumps(x) for x in _list(list, "list")),
    "replace": lambda ctx, list, oldval, newval: _replace_first(_list(list, "list"), oldval, [newval]),
    "replaceAll": lambda ctx, list, oldval, newval: [newval if x == oldval else x for x in _list(list, "list")],
    "sequence": _sequence,
    "sort": _list_sort,
    "map": _list_map,
    "iterate": _list_iterate,
    "reduce": _list_reduce,
    "filter": _list_filter,
}
for _op, _f in _LIST.items():
    implements(f"List.{_op}")(_f)


# ---------------------------------------------------------------------------------------
# Dictionary
# ---------------------------------------------------------------------------------------
@implements("Dictionary")
def dictionary(ctx: Context, input: Any = None) -> dict:
    if input is None:
        return {}
    if isinstance(input, dict):
        return dict(input)
    if isinstance(input, list) and len(input) % 2 == 0:
        return {str(input[i]): input[i + 1] for i in range(0, len(input), 2)}
    raise ArgumentTypeError("input", "Dictionary", input)


def _dict_get(ctx: Context, dictionary: Any, key: Any, defaultValue: Any = None) -> Any:
    d = _dict(dictionary, "dictionary")
    if key in d:
        return d[key]
    if defaultValue is not None:
        return defaultValue
    raise AlgorithmError(f"Dictionary.get: Dictionary does not contain key: '{key}'.")


def _select(d: dict, selectors: list, ignore: bool) -> list[str]:
    keys = []
    for s in selectors:
        hits = [k for k in d if k == s or re.fullmatch(s, k)]
        if not hits and not ignore:
            raise AlgorithmError(f"Key '{s}' not found in dictionary.")
        keys += [k for k in hits if k not in keys]
    return keys


_DICT: dict[str, Callable[..., Any]] = {
    "get": _dict_get,
    "getNumber": _dict_get,
    "getString": _dict_get,
    "getGeometry": _dict_get,
    "keys": lambda ctx, dictionary: sorted(_dict(dictionary, "dictionary")),
    "values": lambda ctx, dictionary, keys=None: [dictionary[k] for k in (keys if keys is not None else sorted(_dict(dictionary, "dictionary")))],
    "size": lambda ctx, dictionary: len(_dict(dictionary, "dictionary")),
    "contains": lambda ctx, dictionary, key: key in _dict(dictionary, "dictionary"),
    "set": lambda ctx, dictionary, key, value: {**_dict(dictionary, "dictionary"), key: value},
    "combine": lambda ctx, first, second, overwrite=True: (
        {**_dict(first, "first"), **_dict(second, "second")} if overwrite else {**second, **first}),
    "select": lambda ctx, dictionary, selectors, ignoreMissing=False: {
        k: dictionary[k] for k in _select(_dict(dictionary, "dictionary"), selectors, ignoreMissing)},
    "remove": lambda ctx, dictionary, selectors, ignoreMissing=False: {
        k: v for k, v in _dict(dictionary, "dictionary").items() if k not in _select(dictionary, selectors, ignoreMissing)},
    "rename": lambda ctx, dictionary, **kw: _rename(dictionary, kw["from"], kw["to"], kw.get("overwrite", False)),
    "fromLists": lambda ctx, keys, values: dict(zip(_list(keys, "keys"), _list(values, "values"), strict=True)),
    "map": lambda ctx, dictionary, baseAlgorithm: {k: _fn(baseAlgorithm, "baseAlgorithm")(k, v) for k, v in _dict(dictionary, "dictionary").items()},
}
for _op, _f in _DICT.items():
    implements(f"Dictionary.{_op}")(_f)


def _rename(d: Any, frm: list, to: list, overwrite: bool) -> dict:
    d = dict(_dict(d, "dictionary"))
    for a, b in zip(frm, to, strict=True):
        if a not in d:
            raise AlgorithmError(f"Dictionary.rename: key '{a}' not found.")
        if b in d and not overwrite:
            raise AlgorithmError(f"Dictionary.rename: key '{b}' already exists.")
        d[b] = d.pop(a)
    return d


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------
def _date(v: Any, arg: str) -> Date:
    return v if isinstance(v, Date) else Date(to_ms(v, arg))


def _tz(timeZone: Any) -> dt.tzinfo:
    if timeZone in (None, "UTC", "Etc/UTC", "Z"):
        return dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(timeZone)
    except Exception:
        raise AlgorithmError(f"Unknown time zone '{timeZone}'.") from None


def _as_datetime(d: Date, timeZone: Any = None) -> dt.datetime:
    return dt.datetime.fromtimestamp(d.millis / 1000, dt.timezone.utc).astimezone(_tz(timeZone))


_UNITS_MS = {"second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 604_800_000}


def _unit(u: Any) -> str:
    s = _string(u, "unit").lower().rstrip("s")
    if s not in (*_UNITS_MS, "month", "year"):
        raise AlgorithmError(f"Invalid unit '{u}': expected year, month, week, day, hour, minute or second.")
    return s


def _advance(ctx: Context, date: Any, delta: Any, unit: Any, timeZone: Any = None) -> Date:
    d, u, n = _date(date, "date"), _unit(unit), _number(delta, "delta")
    if u in _UNITS_MS:
        return Date(int(d.millis + n * _UNITS_MS[u]))
    t = _as_datetime(d, timeZone)
    months = int(n * (12 if u == "year" else 1))
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    return Date(round(t.replace(year=year, month=month, day=day).timestamp() * 1000))


def _difference(ctx: Context, date: Any, start: Any, unit: Any) -> float:
    d, s, u = _date(date, "date"), _date(start, "start"), _unit(unit)
    if u in _UNITS_MS:
        return (d.millis - s.millis) / _UNITS_MS[u]
    a, b = _as_datetime(d), _as_datetime(s)
    months = (a.year - b.year) * 12 + (a.month - b.month) + ((a.day - b.day) + (a - a.replace(day=1)).seconds / 86400) / 31
    return months / 12 if u == "year" else months


def _get(ctx: Context, date: Any, unit: Any, timeZone: Any = None) -> int:
    t = _as_datetime(_date(date, "date"), timeZone)
    u = _unit(unit)
    return {"year": t.year, "month": t.month, "week": t.isocalendar()[1], "day": t.day, "hour": t.hour,
            "minute": t.minute, "second": t.second}[u]


_JODA_TOKEN = re.compile(r"'[^']*'|([A-Za-z])\1*")


def _joda(t: dt.datetime, pattern: str) -> str:
    """Format `t` with a Joda-Time pattern, as Earth Engine's Date.format does."""

    def field(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith("'"):
            return tok[1:-1] or "'"
        ch, n = tok[0], len(tok)
        if ch in "yYx":
            return f"{t.year % 100:02d}" if n == 2 else f"{t.year:0{n}d}"
        if ch == "M":
            return t.strftime("%B") if n >= 4 else t.strftime("%b") if n == 3 else f"{t.month:0{n}d}"
        if ch == "E":
            return t.strftime("%A") if n >= 4 else t.strftime("%a")
        if ch == "a":
            return "AM" if t.hour < 12 else "PM"
        if ch == "S":
            return f"{t.microsecond // 1000:03d}"[:n].ljust(n, "0")
        if ch == "Z":
            off = t.strftime("%z")
            return f"{off[:3]}:{off[3:]}" if n == 2 else off
        values = {"d": t.day, "D": t.timetuple().tm_yday, "H": t.hour, "h": (t.hour % 12) or 12, "m": t.minute,
                  "s": t.second, "w": t.isocalendar()[1], "e": t.isoweekday(), "k": t.hour or 24, "K": t.hour % 12}
        if ch in values:
            return f"{values[ch]:0{n}d}"
        raise AlgorithmError(f"Unsupported date format letter '{ch}'.")

    return _JODA_TOKEN.sub(field, pattern)


def _format(ctx: Context, date: Any, format: Any = None, timeZone: Any = None) -> str:
    t = _as_datetime(_date(date, "date"), timeZone)
    return _joda(t, "yyyy-MM-dd'T'HH:mm:ss" if format is None else _string(format, "format"))


def _from_ymd(ctx: Context, year: Any, month: Any, day: Any, timeZone: Any = None) -> Date:
    t = dt.datetime(_int(year, "year"), _int(month, "month"), _int(day, "day"), tzinfo=_tz(timeZone))
    return Date(round(t.timestamp() * 1000))


_ORDER = ("second", "minute", "hour", "day", "week", "month", "year")


def _get_relative(ctx: Context, date: Any, unit: Any, inUnit: Any, timeZone: Any = None) -> int:
    """The 0-based `unit` of the date within its `inUnit` (e.g. day of the year: 0-365).
    Weeks start on Monday (ISO); a week in a month or year counts from the period's start."""
    u, big = _unit(unit), _unit(inUnit)
    if _ORDER.index(u) >= _ORDER.index(big) or (u == "month" and big == "week"):
        raise AlgorithmError(f"Cannot get the {u} relative to the {big}.")
    t = _as_datetime(_date(date, "date"), timeZone)
    if u == "month":
        return t.month - 1
    if big == "year":
        start = t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif big == "month":
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif big == "week":
        start = (t - dt.timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = t.replace(**{k: 0 for k in ("microsecond", "second", "minute", "hour")[: ("second", "minute", "hour", "day").index(big) + 1]})  # type: ignore[arg-type]
    return int((t - start).total_seconds() * 1000 // _UNITS_MS[u])


_DATE: dict[str, Callable[..., Any]] = {
    "getRelative": _get_relative,
    "millis": lambda ctx, date: _date(date, "date").millis,
    "advance": _advance,
    "difference": _difference,
    "get": _get,
    "format": _format,
    "fromYMD": _from_ymd,
}
for _op, _f in _DATE.items():
    implements(f"Date.{_op}")(_f)


def _range(v: Any, arg: str) -> DateRange:
    if isinstance(v, DateRange):
        return v
    raise ArgumentTypeError(arg, "DateRange", v)


_DATE_RANGE: dict[str, Callable[..., Any]] = {
    "start": lambda ctx, dateRange: Date(_range(dateRange, "dateRange").start),
    "end": lambda ctx, dateRange: Date(_range(dateRange, "dateRange").end),
    "contains": lambda ctx, dateRange, other: (
        _range(dateRange, "dateRange").start <= _range(other, "other").start and other.end <= dateRange.end
        if isinstance(other, DateRange) else dateRange.contains(_date(other, "other").millis)),
    "isEmpty": lambda ctx, dateRange: _range(dateRange, "dateRange").end <= dateRange.start,
}
for _op, _f in _DATE_RANGE.items():
    implements(f"DateRange.{_op}")(_f)


# ---------------------------------------------------------------------------------------
# Element properties (images and image collections are the elements the emulator has)
# ---------------------------------------------------------------------------------------
def _props(v: Any, arg: str) -> dict[str, Any]:
    if isinstance(v, (ImageCollection, Feature)):
        return v.properties
    return as_image(v, arg).properties


def _with_props(v: Any, props: dict) -> Any:
    if isinstance(v, ImageCollection):
        return type(v)(list(v.images), props, dict(v.meta))
    if isinstance(v, Feature):
        return Feature(v.geometry, props)
    return Image(list(v.bands), props, dict(v.meta))


@implements("Element.propertyNames")
def element_property_names(ctx: Context, element: Any) -> list[str]:
    return list(_props(element, "element"))


@implements("Element.toDictionary")
def element_to_dictionary(ctx: Context, element: Any, properties: Any = None) -> dict:
    props = _props(element, "element")
    if properties is None:
        return {k: v for k, v in props.items() if not k.startswith("system:")}
    return {k: props[k] for k in properties if k in props}


@implements("Element.setMulti")
def element_set_multi(ctx: Context, object: Any, properties: Any) -> Any:
    return _with_props(object, {**_props(object, "object"), **_dict(properties, "properties")})


@implements("Element.getNumber")
def element_get_number(ctx: Context, object: Any, property: Any) -> Any:
    return _props(object, "object").get(property)


@implements("Element.getString")
def element_get_string(ctx: Context, object: Any, property: Any) -> Any:
    return _props(object, "object").get(property)


@implements("Element.copyProperties")
def element_copy_properties(ctx: Context, destination: Any = None, source: Any = None, properties: Any = None,
                            exclude: Any = None) -> Any:
    dst, src = _props(destination, "destination"), _props(source, "source")
    keys = list(properties) if properties is not None else [k for k in src if not k.startswith("system:")]
    keys = [k for k in keys if k not in (exclude or [])]
    return _with_props(destination, {**dst, **{k: src[k] for k in keys if k in src}})


@implements("If")
def if_(ctx: Context, condition: Any = None, trueCase: Any = None, falseCase: Any = None) -> Any:
    """`ee.Algorithms.If`: truthiness as Earth Engine has it (0, "", empty lists and null are false)."""
    truthy = condition not in (None, 0, 0.0, False, "") and not (isinstance(condition, (list, dict)) and not condition)
    return trueCase if truthy else falseCase
