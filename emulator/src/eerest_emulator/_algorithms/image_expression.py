"""Earth Engine's expression language: `Image.parseExpression` (band maths, parsed into calls of
the image algorithms) and `Number.expression` (the same grammar over numbers).

Grammar (as documented for `ee.Image.expression`): numbers; variables naming images;
`b(0)`, `b('name')`, `img.band`, `img['band']`; function calls such as `sqrt(x)`,
`min(a, b)`; unary `-` and `!`; `**`, `* / %`, `+ -`, `< <= > >=`, `== !=`, `&&`, `||`
and `cond ? a : b` (lowest), with the usual precedence. Nothing is evaluated by Python.

In `Number.expression` each operator and function is the `Number` algorithm of that name
(`+` is `Number.add`, `sqrt(x)` is `Number.sqrt`: any `Number` function of one or two
arguments), variables come from `vars`, `a.b` and `a['b']` read a child of a dictionary
variable, and `Math.PI`, `Math.E` are the constants.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .._image import Image
from .coerce import as_image, is_number
from .framework import REGISTRY, AlgorithmError, Context, implements

__all__ = ["parse_expression"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:(),.\[\]]))"
)

_BINARY = {
    "||": (1, "Image.or"), "&&": (2, "Image.and"),
    "==": (3, "Image.eq"), "!=": (3, "Image.neq"),
    "<": (4, "Image.lt"), "<=": (4, "Image.lte"), ">": (4, "Image.gt"), ">=": (4, "Image.gte"),
    "+": (5, "Image.add"), "-": (5, "Image.subtract"),
    "*": (6, "Image.multiply"), "/": (6, "Image.divide"), "%": (6, "Image.mod"),
    "**": (8, "Image.pow"),
}
_UNARY_PREC = 7

Node = tuple  # ("num", v) | ("var", name) | ("band", node, selector) | ("call", name, args) | ("op", alg, a, b) ...


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise AlgorithmError(f"Expression parse error at position {pos}: {text[pos:pos + 20]!r}.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise AlgorithmError(f"Expression parse error: expected '{value}', found '{tok[1] or 'end'}'.")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek()[0] != "end":
            raise AlgorithmError(f"Expression parse error: unexpected '{self.peek()[1]}'.")
        return node

    def expr(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind == "op" and op == "?" and min_prec == 0:
                self.take()
                a = self.expr(0)
                self.take(":")
                b = self.expr(0)
                left = ("cond", left, a, b)
                continue
            if kind != "op" or op not in _BINARY or _BINARY[op][0] < max(min_prec, 1):
                return left
            prec, alg = _BINARY[op]
            self.take()
            right = self.expr(prec if op == "**" else prec + 1)  # ** is right-associative
            left = ("op", alg, left, right)

    def unary(self) -> Node:
        kind, op = self.peek()
        if kind == "op" and op in ("-", "+", "!"):
            self.take()
            inner = self.expr(_UNARY_PREC)
            if op == "-":
                return ("op", "Image.multiply", inner, ("num", -1))
            return inner if op == "+" else ("call", "not", [inner])
        return self.postfix(self.atom())

    def atom(self) -> Node:
        kind, val = self.take()
        if kind == "num":
            return ("num", float(val) if any(c in val for c in ".eE") else int(val))
        if kind == "str":
            return ("str", val[1:-1])
        if kind == "op" and val == "(":
            node = self.expr(0)
            self.take(")")
            return node
        if kind == "name":
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.expr(0))
                    while self.peek()[1] == ",":
                        self.take()
                        args.append(self.expr(0))
                self.take(")")
                return ("call", val, args)
            return ("var", val)
        raise AlgorithmError(f"Expression parse error: unexpected '{val or 'end'}'.")

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()[1]
            if tok == ".":
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise AlgorithmError(f"Expression parse error: expected a band name after '.', found '{name}'.")
                node = ("band", node, ("str", name))
            elif tok == "[":
                self.take()
                sel = self.expr(0)
                self.take("]")
                node = ("band", node, sel)
            else:
                return node


_FUNCTIONS = {
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "exp", "floor", "log", "log10", "round", "signum",
    "sin", "sinh", "sqrt", "tan", "tanh", "not", "float", "double", "int", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "byte", "short", "long",
}
_BINARY_FUNCTIONS = {"min", "max", "pow", "hypot", "atan2", "mod"}


def _call(ctx: Context, name: str, **kw: Any) -> Any:
    alg = REGISTRY.get(name)
    if alg is None:
        raise AlgorithmError(f"The expression needs {name}, which the eerest emulator does not implement.")
    return alg.fn(ctx, **kw)


def _select(ctx: Context, img: Any, sel: Any) -> Image:
    return _call(ctx, "Image.select", input=as_image(img, "image"), bandSelectors=[sel])


def parse_expression(ctx: Context, expression: str, default: str, variables: list[str],
                     free_vars_as_bands: bool = False) -> Callable[..., Image]:
    """The expression as a function of the images named in `variables` (keyword arguments)."""
    tree = _Parser(expression).parse()

    def ev(node: Node, env: dict[str, Any]) -> Any:
        kind = node[0]
        if kind in ("num", "str"):
            return node[1]
        if kind == "var":
            name = node[1]
            if name in env:
                return env[name]
            if free_vars_as_bands and default in env:
                return _select(ctx, env[default], name)
            raise AlgorithmError(f"Expression refers to '{name}', which is not one of its images ({', '.join(v for v in env if v != default)}).")
        if kind == "band":
            return _select(ctx, ev(node[1], env), ev(node[2], env))
        if kind == "op":
            return _call(ctx, node[1], image1=_image(ev(node[2], env)), image2=_image(ev(node[3], env)))
        if kind == "cond":
            test, a, b = _image(ev(node[1], env)), _image(ev(node[2], env)), _image(ev(node[3], env))
            return _call(ctx, "Image.where", input=b, test=test, value=a)
        fname, args = node[1], [ev(a, env) for a in node[2]]
        if fname == "b":
            if default not in env:
                raise AlgorithmError("b() needs the expression's default image.")
            return _call(ctx, "Image.select", input=env[default], bandSelectors=args or [".*"])
        if fname in _FUNCTIONS and len(args) == 1:
            return _call(ctx, f"Image.{fname}", value=_image(args[0]))
        if fname in _BINARY_FUNCTIONS and len(args) == 2:
            return _call(ctx, f"Image.{fname}", image1=_image(args[0]), image2=_image(args[1]))
        raise AlgorithmError(f"Unknown function '{fname}' with {len(args)} arguments in the expression.")

    def fn(**images: Any) -> Image:
        missing = [v for v in variables if v not in images]
        if missing:
            raise AlgorithmError(f"The expression's function is missing argument '{missing[0]}'.")
        return _image(ev(tree, images))

    return fn


def _image(v: Any) -> Image:
    return as_image(v, "expression")


@implements("Image.parseExpression")
def image_parse_expression(ctx: Context, expression: Any, argName: Any, vars: Any,
                           mapFreeVarsToDefaultImageBands: Any = False) -> Callable[..., Image]:
    if not isinstance(expression, str):
        raise AlgorithmError("expression must be a string.")
    return parse_expression(ctx, expression, str(argName), [str(v) for v in vars or []], bool(mapFreeVarsToDefaultImageBands))


# ---------------------------------------------------------------------------------------
# Number.expression
# ---------------------------------------------------------------------------------------
_CONSTANTS = {"PI": math.pi, "E": math.e}


def _number_call(ctx: Context, name: str, args: list[Any]) -> Any:
    alg = REGISTRY.get(f"Number.{name}")
    names = [a.name for a in alg.args] if alg is not None else []
    if alg is None or len(names) < len(args) or len(args) not in (1, 2):
        raise AlgorithmError(f"Number.expression: unknown function '{name}' with {len(args)} arguments.")
    for a in args:
        if not is_number(a):
            raise AlgorithmError(f"Number.expression: '{name}' needs numbers, got {type(a).__name__}.")
    return alg.fn(ctx, **dict(zip(names, args, strict=False)))


def _evaluate(ctx: Context, node: Node, env: dict[str, Any]) -> Any:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "str":
        return node[1]
    if kind == "var":
        if node[1] not in env:
            raise AlgorithmError(f"Number.expression: '{node[1]}' is not one of its variables ({', '.join(env)}).")
        return env[node[1]]
    if kind == "band":
        if node[1] == ("var", "Math") and "Math" not in env and node[2][0] == "str" and node[2][1] in _CONSTANTS:
            return _CONSTANTS[node[2][1]]
        parent, key = _evaluate(ctx, node[1], env), _evaluate(ctx, node[2], env)
        if not isinstance(parent, dict) or key not in parent:
            raise AlgorithmError(f"Number.expression: no element '{key}' to extract.")
        return parent[key]
    if kind == "op":
        return _number_call(ctx, node[1].split(".", 1)[1], [_evaluate(ctx, node[2], env), _evaluate(ctx, node[3], env)])
    if kind == "cond":
        test = _evaluate(ctx, node[1], env)
        return _evaluate(ctx, node[2] if test else node[3], env)
    return _number_call(ctx, node[1], [_evaluate(ctx, a, env) for a in node[2]])


@implements("Number.expression")
def number_expression(ctx: Context, expression: Any, vars: Any = None) -> Any:
    if not isinstance(expression, str):
        raise AlgorithmError("Number.expression: expression must be a string.")
    env = dict(vars or {})
    out = _evaluate(ctx, _Parser(expression).parse(), env)
    if not is_number(out):
        raise AlgorithmError("Number.expression: the expression does not evaluate to a number.")
    return out
