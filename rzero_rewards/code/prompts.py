"""Prompts for each code task type and role, and the parsers of the responses (issue 13).

Written for rzero from the description in Absolute Zero (arXiv 2505.03335, §3.2-3.3 and its
appendix): the proposer writes a program `f` with one input (deduction, abduction) after a few
reference triples, or several inputs and a message for a given program (induction); the solver
answers in a fenced block. Every block is Markdown-fenced with its name as the info string:
```python, ```input, ```output, ```message.
"""

from __future__ import annotations

import re

from .policy import ALLOWED_IMPORTS
from .tasks import CodeTask, InductionTask

TASK_TYPES = ("deduction", "abduction", "induction")

_PROGRAM_RULES = f"""Rules for the program:
- Its entry point is a function named `f` with at least one parameter; helper functions and
  classes may come before it, and imports go at the top.
- It is deterministic and returns a value built from numbers, strings, bytes, booleans, None,
  lists, tuples, sets and dicts.
- It may import only these modules: {", ".join(sorted(ALLOWED_IMPORTS))}.
- It uses no files, network, printing, randomness, time or other external state.
- It finishes within a few seconds."""

_INPUT_RULES = """An input is written as the arguments of a call to `f`, each a Python literal, separated by
commas, with strings quoted: for example `'abc', [1, 2], {'k': 3}`."""

_PROPOSER = {
    "deduction": "Another solver will see your program and your input and must work out the output.",
    "abduction": "Another solver will see your program and the output it returns for your input, and must"
    " find an input that produces that output.",
}


def _fence(tag: str, body: str) -> str:
    return f"```{tag}\n{body}\n```"


_PROGRAM_SKELETON = _fence("python", "def f(...):\n    ...")


def _reference_block(references: list[CodeTask]) -> str:
    if not references:
        return ""
    shown = "\n\n".join(
        f"Example {k + 1}:\n{_fence('python', t.program)}\n{_fence('input', t.input)}\n{_fence('output', t.output)}"
        for k, t in enumerate(references)
    )
    return f"\n\nExisting tasks (yours must differ from them):\n\n{shown}"


def proposer_prompt(task_type: str, references: list[CodeTask]) -> str:
    """The proposer's prompt for a deduction or abduction task, after `references` (past valid
    tasks, AZR's K reference triples). The answer is a ```python block and an ```input block."""
    if task_type not in _PROPOSER:
        raise ValueError(f"proposer_prompt writes deduction or abduction tasks, not {task_type!r}")
    return (
        f"Write a new Python program and one input for it, as a reasoning task. {_PROPOSER[task_type]}"
        " Make the task hard but solvable by careful step-by-step reasoning.\n\n"
        f"{_PROGRAM_RULES}\n\n{_INPUT_RULES}"
        f"{_reference_block(references)}\n\n"
        f"Answer with the program in a block\n{_PROGRAM_SKELETON}\n"
        f"followed by the input in a block\n{_fence('input', '...')}"
    )


def induction_proposer_prompt(program: str, num_inputs: int) -> str:
    """The proposer's prompt for an induction task: `num_inputs` inputs for `program` and a message
    for the solver. The answer is `num_inputs` ```input blocks and one ```message block."""
    return (
        f"Here is a Python program:\n{_fence('python', program)}\n\n"
        f"Write {num_inputs} different inputs for `f` whose outputs together reveal what it does, and a short"
        " message that hints at its purpose without showing its code. Another solver will see half of the"
        " inputs with their outputs and your message, and must write the program; it is checked on the"
        f" other half.\n\n{_INPUT_RULES}\n\n"
        f"Answer with each input in its own block\n{_fence('input', '...')}\n"
        f"and the message in a block\n{_fence('message', '...')}"
    )


def solver_prompt(task: CodeTask | InductionTask, task_type: str) -> str:
    """The solver's prompt: deduction (program and input; answer ```output), abduction (program
    and output; answer ```input) or induction (visible pairs and message; answer ```python)."""
    if task_type == "deduction":
        return (
            f"What does this program return?\n{_fence('python', task.program)}\n\n"
            f"It is called as `f` with these arguments:\n{_fence('input', task.input)}\n\n"
            "Reason step by step, then give the returned value as a Python literal in a block\n"
            f"{_fence('output', '...')}"
        )
    if task_type == "abduction":
        return (
            f"Find an input for this program:\n{_fence('python', task.program)}\n\n"
            f"such that `f` returns:\n{_fence('output', task.output)}\n\n{_INPUT_RULES}\n\n"
            f"Reason step by step, then give the input in a block\n{_fence('input', '...')}"
        )
    if task_type == "induction":
        pairs = "\n\n".join(f"{_fence('input', i)}\n{_fence('output', o)}" for i, o in task.visible)
        return (
            f"Write a Python function `f` that returns these outputs for these inputs:\n\n{pairs}\n\n"
            f"A hint from the task's author:\n{_fence('message', task.message)}\n\n"
            f"It is checked on other inputs of the same kind.\n\n{_PROGRAM_RULES}\n\n"
            f"Reason step by step, then give the program in a block\n{_PROGRAM_SKELETON}"
        )
    raise ValueError(f"unknown task type {task_type!r}; expected one of {TASK_TYPES}")


def extract_blocks(text: str, tag: str) -> list[str]:
    """The bodies of the ```tag fenced blocks in `text`, in order, stripped.

    >>> extract_blocks("x\\n```input\\n1, 2\\n```\\n```input\\n'a'\\n```", "input")
    ['1, 2', "'a'"]
    """
    return [body.strip() for body in re.findall(rf"```{re.escape(tag)}[ \t]*\n(.*?)```", text, re.DOTALL)]


def parse_proposal(text: str) -> tuple[str, str] | None:
    """`(program, input)` from a deduction/abduction proposer's response: its first ```python and
    first ```input block; None when either is missing or empty."""
    programs, inputs = extract_blocks(text, "python"), extract_blocks(text, "input")
    if not programs or not inputs or not programs[0] or not inputs[0]:
        return None
    return programs[0], inputs[0]


def parse_induction_proposal(text: str, num_inputs: int) -> tuple[list[str], str] | None:
    """`(inputs, message)` from an induction proposer's response: exactly `num_inputs` non-empty
    ```input blocks and a ```message block; None otherwise."""
    inputs, messages = extract_blocks(text, "input"), extract_blocks(text, "message")
    if len(inputs) != num_inputs or not all(inputs) or not messages:
        return None
    return inputs, messages[0]


def parse_solver_answer(text: str, task_type: str) -> str | None:
    """The solver's final answer: the last ```output (deduction), ```input (abduction) or ```python
    (induction) block; None when there is none (a malformed response)."""
    tag = {"deduction": "output", "abduction": "input", "induction": "python"}.get(task_type)
    if tag is None:
        raise ValueError(f"unknown task type {task_type!r}; expected one of {TASK_TYPES}")
    blocks = extract_blocks(text, tag)
    return blocks[-1] if blocks and blocks[-1] else None
