"""Prompts for each code task type and role, and the parsers of the responses (issue 13).

Written for rzero from the description in Absolute Zero (arXiv 2505.03335, §3.2-3.3 and its
appendix): the proposer writes a program `f` with one input (deduction, abduction) after a few
reference triples, or several inputs and a message for a given program (induction); the solver
answers in a fenced block. Every block is Markdown-fenced with its name as the info string:
```python, ```input, ```output, ```message; a program's block may also be named ```py or
```python3, or not named.

The one-shot format examples (`proposer_example`, `solver_example`: our own tasks, not the
paper's) show small models one well-formed exchange before the real request; without them the
embedded Qwen2.5-Coder-0.5B seldom writes the blocks (benchmarks/README.md).
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


PROPOSER_EXAMPLE_ANSWER = (
    "Plan: shift every letter by a number of places, then reverse the text; the input is a word with a"
    " capital and a hyphen.\n\n"
    + _fence(
        "python",
        "def f(text, shift):\n"
        "    letters = [chr((ord(c) - 97 + shift) % 26 + 97) if c.isalpha() else c for c in text.lower()]\n"
        "    return ''.join(reversed(letters))",
    )
    + "\n"
    + _fence("input", "'Zero-sum', 3")
)
PROPOSER_FOLLOW_UP = "\n\nWrite a new program, different from your previous one, and its input block."
SOLVER_EXAMPLE_TASK = CodeTask(
    "def f(words):\n    counts = {}\n    for word in words:\n        counts[len(word)] = counts.get(len(word), 0) + 1\n"
    "    return sorted(counts.items())",
    "['ab', 'cd', 'xyz']",
    "[(2, 2), (3, 1)]",
)
_SOLVER_EXAMPLE_ANSWERS = {
    "deduction": "The words have lengths 2, 2 and 3, so `counts` ends as {2: 2, 3: 1}, and its sorted items"
    f" are [(2, 2), (3, 1)].\n\n{_fence('output', '[(2, 2), (3, 1)]')}",
    "abduction": "`f` counts the words of each length and returns the (length, count) pairs in order of length."
    " The output needs two words of length 2 and one of length 3, passed as one list.\n\n"
    + _fence("input", "['no', 'ok', 'yes']"),
}


def proposer_example(task_type: str) -> tuple[str, str]:
    """A one-shot exchange for the proposer of `task_type` (deduction or abduction): its request
    without references and a well-formed answer (a one-line plan, then our own program and input).
    The real request after it ends with `PROPOSER_FOLLOW_UP`: without it the 0.5B coder mostly
    repeats the example's program."""
    return proposer_prompt(task_type, []), PROPOSER_EXAMPLE_ANSWER


def solver_example(task_type: str) -> tuple[str, str]:
    """A one-shot exchange for the solver of `task_type` (deduction or abduction) on
    `SOLVER_EXAMPLE_TASK`: its prompt and a short reasoning ending in the answer block."""
    if task_type not in _SOLVER_EXAMPLE_ANSWERS:
        raise ValueError(f"solver examples exist for deduction and abduction, not {task_type!r}")
    return solver_prompt(SOLVER_EXAMPLE_TASK, task_type), _SOLVER_EXAMPLE_ANSWERS[task_type]


_FENCED_BLOCK = re.compile(r"```([^`\n]*)\n(.*?)```", re.DOTALL)
_BLOCK_NAMES = {"python": ("python", "py", "python3", "")}


def extract_blocks(text: str, tag: str) -> list[str]:
    """The bodies of the ```tag fenced blocks in `text`, in order, stripped. Fences pair up in
    order, so a closing fence never opens a block; a ```python block may also be named ```py or
    ```python3, or not named.

    >>> extract_blocks("x\\n```input\\n1, 2\\n```\\n```input\\n'a'\\n```", "input")
    ['1, 2', "'a'"]
    >>> extract_blocks("```output\\n3\\n```\\n```\\ndef f(a):\\n    return a\\n```", "python")
    ['def f(a):\\n    return a']
    """
    names = _BLOCK_NAMES.get(tag, (tag,))
    return [body.strip() for name, body in _FENCED_BLOCK.findall(text) if name.strip().lower() in names]


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
