"""Python literals, the currency of the code tasks: call arguments in, return values out (AZR §3.3).

Inputs are written as a call's arguments (`'abc', [1, 2], k=3`), outputs as a value's `repr`, and
both are read with `literal_value` (`ast.literal_eval`), so every comparison is by value (`==`), never
by spelling. Every parse of Python source in this project goes through `parse_python`.
"""

from __future__ import annotations

import ast
import math
import threading

LITERAL_SCALARS = (int, float, complex, str, bytes, bool, type(None))
LITERAL_CONTAINERS = (list, tuple, set, dict)


# What reading a literal can raise (`ast.literal_eval`'s own errors; deep or huge text: the last two).
LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)

_PARSE_LOCK = threading.Lock()


def parse_python(source: str, mode: str = "exec") -> ast.AST:
    """`ast.parse(source, mode=mode)`, one parse at a time in this process; raises as `ast.parse`.

    CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide state, so when a
    thread switch lands inside a parse (a garbage collection running Python finalizers can cause
    one) a parse in another thread breaks it: `SystemError: AST constructor recursion depth
    mismatch` (python/cpython#106905). The sandbox checks programs on several threads at once; one
    such error ended an AZR run in CI."""
    with _PARSE_LOCK:
        return ast.parse(source, mode=mode)


def literal_value(text: str) -> object:
    """`ast.literal_eval(text)` with the parse made by `parse_python`; raises as `ast.literal_eval`
    (`LITERAL_ERRORS`).

    >>> literal_value(" [1, (2, 'a')]")
    [1, (2, 'a')]
    """
    return ast.literal_eval(parse_python(text.lstrip(" \t"), mode="eval"))


class TooLarge(ValueError):
    """A value with more parts than its output could hold (or one that contains itself)."""


def literal_problem(value: object, max_items: int) -> str | None:
    """Why `value` is not a plain Python literal (exact built-in types, finite floats), else None.

    Raises `TooLarge` past `max_items` scalars and containers (a container holding itself never
    ends). Iterative, so deep nesting cannot overflow the stack here."""
    stack = [value]
    for _ in range(max_items + 1):
        if not stack:
            return None
        item = stack.pop()
        kind = type(item)
        if kind is float and not math.isfinite(item):
            return f"{item!r} is not a literal"
        if kind is complex and not (math.isfinite(item.real) and math.isfinite(item.imag)):
            return f"{item!r} is not a literal"
        if kind in LITERAL_SCALARS:
            continue
        if kind not in LITERAL_CONTAINERS:
            return f"returns a {kind.__name__}, which is not a literal"
        if kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            stack.extend(item)
    raise TooLarge(f"more than {max_items} items")


def parse_arguments(text: str) -> tuple[list, dict]:
    """The positional and keyword arguments of a call written as `text` (`'a', [1, 2], k=3`);
    every argument must be a Python literal. Raises ValueError otherwise."""
    try:
        call = parse_python(f"f({text})", mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"the arguments do not parse: {error.msg}") from None
    if not isinstance(call, ast.Call) or any(isinstance(arg, ast.Starred) for arg in call.args):
        raise ValueError("the arguments are not a plain argument list")
    if any(keyword.arg is None for keyword in call.keywords):
        raise ValueError("the arguments use **")
    try:
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    except LITERAL_ERRORS as error:
        raise ValueError(f"an argument is not a Python literal: {error}") from None
    return args, kwargs
