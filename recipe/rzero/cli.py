"""Command lines made from configuration dataclasses: the dataclass is the one source of defaults.

Each field becomes `--field-name`, typed by its annotation, documented by its `help` metadata,
required when it has no default; a field with `positional` metadata is a positional argument.
Booleans get `--x/--no-x`; `Literal` fields get choices; lists take several values.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .artifacts import StageMismatchError
from .replicas import ReplicaError
from .solver_client import SolverUnavailableError
from .solver_service import SolverServiceError

ConfigT = TypeVar("ConfigT")


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _argument(field: dataclasses.Field, annotation: Any) -> tuple[str, dict[str, Any]]:
    positional = field.metadata.get("positional", False)
    name = field.name if positional else "--" + field.name.replace("_", "-")
    options: dict[str, Any] = {"help": field.metadata.get("help", "")}
    if not positional:
        options["dest"] = field.name
    has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    if has_default:
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        options["default"] = default
        options["help"] += " (default: %(default)s)"
    elif not positional:
        options["required"] = True
    annotation = _unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        options["action"] = argparse.BooleanOptionalAction
    elif origin is typing.Literal:
        options["choices"] = list(typing.get_args(annotation))
    elif origin is list:
        options["nargs"] = "*" if has_default else "+"
        options["type"] = typing.get_args(annotation)[0]
    elif annotation in (int, float, str, Path):
        options["type"] = annotation
    else:
        raise TypeError(f"field {field.name}: no command-line form for {annotation!r}")
    return name, options


def build_parser(config_class: type, description: str | None = None, prog: str | None = None) -> argparse.ArgumentParser:
    """An argparse parser with one option per field of `config_class`."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        if field.init:
            name, options = _argument(field, hints[field.name])
            parser.add_argument(name, **options)
    return parser


# Errors that mean bad input or an unusable service or engine, reported as lines instead of a traceback.
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    KeyError,
    StageMismatchError,
    SolverServiceError,
    SolverUnavailableError,
    ReplicaError,
)


def _message(error: BaseException) -> str:
    return str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)


def parse_config(
    config_class: type[ConfigT], argv: list[str] | None = None, description: str | None = None, prog: str | None = None
) -> ConfigT:
    """Parse `argv` into a `config_class` instance (whose `__post_init__` validates it)."""
    arguments = build_parser(config_class, description, prog).parse_args(argv)
    try:
        return config_class(**vars(arguments))
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None


def run_cli(
    config_class: type[ConfigT],
    run: Callable[[ConfigT], Any],
    argv: list[str] | None = None,
    description: str | None = None,
    prog: str | None = None,
) -> None:
    """A command's `main`: parse its config, run it, turn bad-input errors into `error: ...`, exit 1."""
    config = parse_config(config_class, argv, description, prog)
    try:
        run(config)
    except USER_ERRORS as error:
        print(f"error: {_message(error)}", file=sys.stderr)
        raise SystemExit(1) from None
