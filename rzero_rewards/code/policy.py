"""The static check of a model-written program, before anything runs (issue 13; AZR §3.3.3).

`check_program` parses the program and rejects imports outside an allow-list and the names and
attributes that reach the interpreter's machinery. It implements AZR's task-validity rule (no
`os`, `sys`, `shutil`, `subprocess`, `socket`, randomness, time, ...) and closes the routes
around it that we know of (dunder attributes, attribute lookup by string, frames, string
annotations evaluated as code); it is a deny-list, so another route through the standard
library may exist, and it is *not* the security boundary. A program that gets past it reaches
`os` inside its own process and so controls its own verdict (`sandbox.py`); what contains it is
the sandbox's process isolation.
"""

from __future__ import annotations

import ast
import importlib
import types

from .literals import parse_python

# Deterministic, side-effect-free modules of the standard library. Everything else is rejected,
# AZR's banned list included: os, sys, shutil, subprocess, socket, random, time, datetime,
# calendar, logging, threading, multiprocessing, hashlib, hmac, importlib, ctypes, ...
ALLOWED_IMPORTS = frozenset(
    {
        "abc",
        "bisect",
        "cmath",
        "collections",
        "copy",
        "dataclasses",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "re",
        "string",
        "textwrap",
        "typing",
        "unicodedata",
    }
)

# Built-ins that run code from strings, import, open files, or reach any object's attributes.
FORBIDDEN_NAMES = frozenset(
    {
        "__builtins__",
        "__import__",
        "__loader__",
        "__spec__",
        "breakpoint",
        "compile",
        "delattr",
        "eval",
        "exec",
        "exit",
        "getattr",
        "globals",
        "help",
        "input",
        "locals",
        "memoryview",
        "open",
        "quit",
        "setattr",
        "vars",
    }
)

# The built-ins a program does not get (the sandbox removes them before it runs). A caller may give
# some back (`allowed_builtins`) for trusted benchmark code that uses `eval` (HumanEval/160) or
# names a variable `input` (CRUXEval sample_782); never the double-underscore names.
FORBIDDEN_BUILTINS = frozenset(name for name in FORBIDDEN_NAMES if not name.startswith("__"))

# Names that reach any object's attributes, frames or unchecked code without a dunder in the
# program's text; denied wherever they appear: as a name, an attribute, an imported name or a
# keyword of a class pattern (`case C(f_back=x)`).
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        # attribute lookup by a string: `attrgetter("__class__.__base__")(())`
        "attrgetter",
        "methodcaller",
        # string.Formatter looks up `{0.__class__}` and hands the object to get_field,
        # format_field and convert_field, which a subclass overrides
        "Formatter",
        "get_field",
        # evaluate a string annotation as code the static check never saw; singledispatch's
        # `register` calls get_type_hints on the function it is given
        "get_type_hints",
        "ForwardRef",
        "_evaluate",
        "_eval_type",
        "evaluate_forward_ref",
        "singledispatch",
        "singledispatchmethod",
        # frames (their globals and built-ins are the worker's) and code objects
        "gi_frame",
        "cr_frame",
        "ag_frame",
        "tb_frame",
        "tb_next",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "gi_code",
        "cr_code",
        "ag_code",
    }
)

# Dunder attributes a program may use (constructors and names); every other one, such as
# `__class__`, `__subclasses__`, `__globals__` or `__dict__`, leads to the interpreter's internals.
ALLOWED_DUNDER_ATTRIBUTES = frozenset({"__init__", "__name__", "__doc__", "__qualname__"})


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _denied_attribute(name: str) -> bool:
    return (_is_dunder(name) and name not in ALLOWED_DUNDER_ATTRIBUTES) or name in FORBIDDEN_ATTRIBUTES


def _allowed_module(module: object, allowed_imports: frozenset[str]) -> bool:
    return module.__name__.split(".")[0] in allowed_imports


def _import(name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _check_module_use(name: ast.Name, module: types.ModuleType, parents: dict[ast.AST, ast.AST],
                      allowed_imports: frozenset[str]) -> str | None:
    """A module may only be the base of an attribute chain that ends in something not a module,
    never private, never through a module outside the allow-list (`fractions.sys` is `sys`)."""
    node: ast.AST = name
    value: object = module
    while isinstance(value, types.ModuleType) and isinstance(parents.get(node), ast.Attribute):
        if parents[node].value is not node:
            break
        node = parents[node]
        if node.attr.startswith("_") and node.attr not in ALLOWED_DUNDER_ATTRIBUTES:
            return f"uses the private attribute {node.attr!r} of the module {value.__name__!r}"
        value = getattr(value, node.attr, None)
        if isinstance(value, types.ModuleType) and not _allowed_module(value, allowed_imports):
            return f"reaches the module {value.__name__!r} through {module.__name__!r}, which is not allowed"
    if isinstance(value, types.ModuleType):
        return f"uses the module {value.__name__!r} as a value"
    return None


def check_builtins(allowed_builtins: frozenset[str]) -> None:
    """Raise ValueError naming any of `allowed_builtins` that is not in `FORBIDDEN_BUILTINS`."""
    unknown = sorted(set(allowed_builtins) - FORBIDDEN_BUILTINS)
    if unknown:
        raise ValueError(
            f"allowed_builtins {unknown} cannot be given back; these can: {', '.join(sorted(FORBIDDEN_BUILTINS))}"
        )


def check_program(
    program: str, allowed_imports: frozenset[str] = ALLOWED_IMPORTS, allowed_builtins: frozenset[str] = frozenset()
) -> str | None:
    """`None` when `program` passes, else the reason it is rejected (one line).

    Rejected: a syntax error; `import m` / `from m import x` whose top-level module is not in
    `allowed_imports`, a relative or star import, an unknown module, or importing a private name; a name in
    `FORBIDDEN_NAMES` but not in `allowed_builtins` (a subset of `FORBIDDEN_BUILTINS`, else ValueError);
    a dunder attribute not in `ALLOWED_DUNDER_ATTRIBUTES` or any attribute in `FORBIDDEN_ATTRIBUTES`
    (also as a name, an imported name, or a keyword of a class pattern); a module used other
    than as the base of an attribute chain (`m = math`), a private attribute of a module
    (`collections._sys`), or a module outside the allow-list reached through an allowed one
    (`fractions.sys`). A name that shadows an imported module (a parameter `string` beside
    `import string`) counts as the module.

    >>> check_program("import math\\ndef f(x):\\n    return math.sqrt(x)") is None
    True
    >>> check_program("import os")
    "imports 'os', which is not allowed"
    """
    check_builtins(allowed_builtins)
    try:
        tree = parse_python(program)
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes in the source
        return f"does not parse: {error}"
    except (RecursionError, MemoryError):
        return "does not parse: nested too deeply"
    modules: dict[str, types.ModuleType] = {}  # name bound by an import -> the module it binds
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in allowed_imports:
                    return f"imports {alias.name!r}, which is not allowed"
                module = _import(alias.name)
                if module is None:
                    return f"imports {alias.name!r}, which does not exist"
                bound = alias.asname or alias.name.split(".")[0]
                modules[bound] = module if alias.asname else _import(bound)
        elif isinstance(node, ast.ImportFrom):
            if node.level or node.module is None:
                return "uses a relative import"
            if node.module.split(".")[0] not in allowed_imports:
                return f"imports from {node.module!r}, which is not allowed"
            module = _import(node.module)
            if module is None:
                return f"imports from {node.module!r}, which does not exist"
            for alias in node.names:
                if alias.name == "*":
                    return f"uses a star import from {node.module!r}"
                if alias.name.startswith("_"):
                    return f"imports the private name {alias.name!r} from {node.module!r}"
                if alias.name in FORBIDDEN_ATTRIBUTES:
                    return f"imports {alias.name!r} from {node.module!r}, which is not allowed"
                value = getattr(module, alias.name, None) or _import(f"{node.module}.{alias.name}")
                if isinstance(value, types.ModuleType):
                    if not _allowed_module(value, allowed_imports):
                        return f"imports the module {value.__name__!r} from {node.module!r}, which is not allowed"
                    modules[alias.asname or alias.name] = value
        elif isinstance(node, ast.Name) and (
            (node.id in FORBIDDEN_NAMES and node.id not in allowed_builtins)
            or node.id in FORBIDDEN_ATTRIBUTES
            or node.id == "__class__"
        ):
            return f"uses {node.id!r}, which is not allowed"
        elif isinstance(node, ast.Attribute) and _denied_attribute(node.attr):
            return f"uses the attribute {node.attr!r}, which is not allowed"
        elif isinstance(node, ast.MatchClass):  # `case object(__class__=c)` reads the attribute
            for attr in node.kwd_attrs:
                if _denied_attribute(attr):
                    return f"uses the attribute {attr!r}, which is not allowed"
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    for node in ast.walk(tree):  # a second pass: every import is known now
        if isinstance(node, ast.Name) and node.id in modules and isinstance(node.ctx, ast.Load):
            reason = _check_module_use(node, modules[node.id], parents, allowed_imports)
            if reason:
                return reason
    return None
