"""Evaluation of Earth Engine `Expression` graphs (every ValueNode kind) over the algorithm registry."""

from __future__ import annotations

import base64
from typing import Any

from ._algorithms import REGISTRY, AlgorithmError, ArgumentTypeError, Context
from ._catalogue import catalogue, not_implemented
from ._errors import invalid_argument

__all__ = ["evaluate", "Function"]

_NODE_KINDS = (
    "constantValue",
    "integerValue",
    "bytesValue",
    "arrayValue",
    "dictionaryValue",
    "functionDefinitionValue",
    "functionInvocationValue",
    "argumentReference",
    "valueReference",
)


class Function:
    """A `functionDefinitionValue`: a closure over the graph, called with named arguments."""

    def __init__(self, ev: _Evaluator, argument_names: list[str], body: str) -> None:
        self._ev = ev
        self.argument_names = list(argument_names)
        self.body = body

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        env = dict(zip(self.argument_names, args, strict=False))
        env.update(kwargs)
        missing = [a for a in self.argument_names if a not in env]
        if missing:
            raise invalid_argument(f"Function call is missing argument '{missing[0]}'.")
        return self._ev.value(self.body, env)


class _Evaluator:
    def __init__(self, expression: dict, ctx: Context) -> None:
        if not isinstance(expression, dict):
            raise invalid_argument("expression must be an object with 'result' and 'values'.")
        values, result = expression.get("values") or {}, expression.get("result")
        if not isinstance(values, dict) or not isinstance(result, str):
            raise invalid_argument("expression must have a string 'result' and an object 'values'.")
        self.values: dict[str, Any] = values
        self.result: str = result
        self.ctx = ctx
        self._memo: dict[str, Any] = {}
        self._active: set[str] = set()

    def run(self) -> Any:
        return self.value(self.result, {})

    def value(self, key: str, env: dict[str, Any]) -> Any:
        """Evaluate the value `key`; memoised when evaluated outside any function body."""
        if key not in self.values:
            raise invalid_argument(f"Expression refers to value '{key}', which is not in 'values'.")
        if not env and key in self._memo:
            return self._memo[key]
        marker = f"{key}@{id(env)}"
        if marker in self._active:
            raise invalid_argument(f"Expression graph has a cycle through value '{key}'.")
        self._active.add(marker)
        try:
            out = self.node(self.values[key], env)
        finally:
            self._active.discard(marker)
        if not env:
            self._memo[key] = out
        return out

    def node(self, node: Any, env: dict[str, Any]) -> Any:
        if not isinstance(node, dict):
            raise invalid_argument(f"Invalid ValueNode: expected an object, got {node!r}.")
        kinds = [k for k in node if k in _NODE_KINDS]
        if len(kinds) != 1:
            raise invalid_argument(
                f"Invalid ValueNode {sorted(node)}: exactly one of {', '.join(_NODE_KINDS)} must be set."
            )
        kind = kinds[0]
        v = node[kind]
        if kind == "constantValue":
            return v
        if kind == "integerValue":
            try:
                return int(v)
            except (TypeError, ValueError):
                raise invalid_argument(f"Invalid integerValue {v!r}.") from None
        if kind == "bytesValue":
            try:
                return base64.b64decode(v, altchars=b"-_" if "-" in v or "_" in v else None, validate=False)
            except (TypeError, ValueError):
                raise invalid_argument("Invalid bytesValue: not base64.") from None
        if kind == "arrayValue":
            return [self.node(x, env) for x in (v or {}).get("values", [])]
        if kind == "dictionaryValue":
            return {k: self.node(x, env) for k, x in ((v or {}).get("values") or {}).items()}
        if kind == "valueReference":
            return self.value(v, env)
        if kind == "argumentReference":
            if v not in env:
                raise invalid_argument(f"argumentReference '{v}' is not an argument of an enclosing function.")
            return env[v]
        if kind == "functionDefinitionValue":
            names = (v or {}).get("argumentNames") or []
            body = (v or {}).get("body")
            if not isinstance(body, str):
                raise invalid_argument("functionDefinitionValue needs a 'body' value key.")
            if env:
                # A nested definition closes over the arguments of its enclosing function.
                outer = dict(env)
                fn = Function(self, names, body)
                return lambda *a, **k: fn(*a, **{**outer, **dict(zip(names, a, strict=False)), **k})
            return Function(self, names, body)
        return self.invoke(v or {}, env)

    def invoke(self, inv: dict, env: dict[str, Any]) -> Any:
        raw_args = inv.get("arguments") or {}
        args = {k: self.node(x, env) for k, x in raw_args.items()}
        if "functionReference" in inv:
            fn = self.value(inv["functionReference"], env)
            if not callable(fn):
                raise invalid_argument(f"functionReference '{inv['functionReference']}' is not a function.")
            return fn(**args)
        name = inv.get("functionName")
        if not isinstance(name, str):
            raise invalid_argument("functionInvocationValue needs functionName or functionReference.")
        alg = REGISTRY.get(name)
        if alg is None and name in catalogue():
            raise not_implemented(name, len(REGISTRY))
        if alg is None:
            raise invalid_argument(
                f"Unknown algorithm '{name}': the eerest emulator does not implement it "
                "(see projects.algorithms.list for those it does)."
            )
        allowed = {a.name for a in alg.args}
        for k in args:
            if k not in allowed:
                raise invalid_argument(
                    f"{name}: Unrecognized argument '{k}'. Allowed arguments: {', '.join(a.name for a in alg.args) or 'none'}."
                )
        for a in alg.args:
            if a.name not in args:
                if not a.optional:
                    raise invalid_argument(f"{name}: Parameter '{a.name}' is required.")
                args[a.name] = a.default
        try:
            return alg.fn(self.ctx, **args)
        except ArgumentTypeError as e:
            raise invalid_argument(
                f"{name}, argument '{e.arg}': Invalid type.\nExpected type: {e.expected}.\nActual type: {e.actual}."
            ) from None
        except AlgorithmError as e:
            raise invalid_argument(f"{name}: {e}") from None
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError) as e:
            # Values of the wrong shape deep inside arguments (a list of the wrong length, a string
            # where a number belongs): the user's request, so a 400 naming the algorithm.
            raise invalid_argument(f"{name}: invalid arguments ({type(e).__name__}: {e}).") from None


def evaluate(expression: dict, ctx: Context) -> Any:
    """Evaluate an Expression JSON object; user errors raise a 400 ApiError naming the cause."""
    return _Evaluator(expression, ctx).run()
