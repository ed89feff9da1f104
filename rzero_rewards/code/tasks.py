"""AZR's three code reasoning tasks: validation of a proposed task and checking of a solver's answer.

A task is a triple (program `f`, input, output) (Absolute Zero, arXiv 2505.03335, §3.2): the
input is the text of a call's arguments (`'abc', [1, 2]`), the output the `repr` of `f(input)`.

- deduction: given `f` and the input, predict the output; correct when the predicted literal
  equals the output (`==` on values, never on spellings).
- abduction: given `f` and the output, give an input `x`; correct when `f(x) == output` (any
  such input, run in the sandbox).
- induction: given some input/output pairs and a message, write `f`; correct when it maps every
  held-out input to its output (AZR's binary induction reward).

Validation (AZR §3.3.3): the program passes the static check, runs within the limits on the
input, returns a Python literal, and returns the same value on `runs` separate runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .literals import LITERAL_ERRORS, literal_value, parse_arguments
from .policy import ALLOWED_IMPORTS
from .sandbox import Execution, Limits, run_functions


@dataclass(frozen=True)
class CodeTask:
    """A validated triple: `program` defines `f`, `input` is call-argument text, `output` the
    `repr` of `f(input)`; `allowed_imports` is the allow-list it was validated with, which checking
    an answer uses too."""

    program: str
    input: str
    output: str
    allowed_imports: frozenset[str] = ALLOWED_IMPORTS


@dataclass(frozen=True)
class Validation:
    """The task when the proposal is valid (`reason` empty), else None and why not."""

    task: CodeTask | None
    reason: str = ""


@dataclass(frozen=True)
class InductionTask:
    """A program, its input/output pairs split into those shown to the solver (`visible`, the first
    half) and those it is checked on (`hidden`), the proposer's `message`, and the allow-list it
    was validated with (`allowed_imports`), which the solver's program gets too."""

    program: str
    visible: tuple[tuple[str, str], ...]
    hidden: tuple[tuple[str, str], ...]
    message: str
    allowed_imports: frozenset[str] = ALLOWED_IMPORTS


def _distinct(values: list) -> list:
    """The distinct values, by `==` (they need not be hashable)."""
    distinct: list = []
    for value in values:
        if value not in distinct:
            distinct.append(value)
    return distinct


def _run(calls: list[tuple[str, str, frozenset[str]]], limits: Limits) -> list[Execution]:
    """`run_functions` over `(program, arguments, allowed_imports)`, one batch per allow-list; in order."""
    executions: list[Execution | None] = [None] * len(calls)
    for allowed in set(allowed for _, _, allowed in calls):
        indices = [i for i, call in enumerate(calls) if call[2] == allowed]
        batch = run_functions([calls[i][:2] for i in indices], limits=limits, allowed_imports=allowed)
        for i, execution in zip(indices, batch):
            executions[i] = execution
    return executions


def _same_value(first: Execution, second: Execution) -> bool:
    return second.ok and type(second.value) is type(first.value) and second.value == first.value


def validate_tasks(
    proposals: list[tuple[str, str]],
    *,
    limits: Limits = Limits(),
    runs: int = 2,
    allowed_imports: frozenset[str] = ALLOWED_IMPORTS,
) -> list[Validation]:
    """Validate `(program, input)` proposals, all `runs` runs of all of them in one batch, with
    `allowed_imports` (kept in each task, for checking answers).

    >>> validate_tasks([("def f(a):\\n    return a * 2", "21"), ("def f(a):\\n    return a.x", "1")])[1].reason
    "error: AttributeError: 'int' object has no attribute 'x'"
    """
    calls = [proposal for proposal in proposals for _ in range(runs)]
    executions = run_functions(calls, limits=limits, allowed_imports=allowed_imports)
    validations = []
    for index, (program, arguments) in enumerate(proposals):
        first, *others = executions[index * runs : (index + 1) * runs]
        if not first.ok:
            validations.append(Validation(None, f"{first.status}: {first.detail}"))
        elif not all(_same_value(first, other) for other in others):
            validations.append(Validation(None, "not deterministic: another run returned something else"))
        else:
            validations.append(Validation(CodeTask(program, arguments, first.output, frozenset(allowed_imports))))
    return validations


def read_literal(text: str | None) -> tuple[bool, object]:
    """`(True, value)` when `text` is a Python literal, else `(False, None)`."""
    if text is None:
        return False, None
    try:
        return True, literal_value(text.strip())
    except LITERAL_ERRORS:
        return False, None


def check_deduction(task: CodeTask, predicted_output: str | None) -> bool:
    """Whether the predicted output equals the task's output as a value (`[1, 2]` == `[1,2]`).

    >>> check_deduction(CodeTask("def f(a):\\n    return [a, a]", "1", "[1, 1]"), "[1,1]")
    True
    """
    readable, predicted = read_literal(predicted_output)
    return readable and predicted == literal_value(task.output)


def check_abductions(answers: list[tuple[CodeTask, str | None]], *, limits: Limits = Limits()) -> list[bool]:
    """For each `(task, predicted_input)`: whether `f(predicted_input)` runs (with the task's
    `allowed_imports`) and equals the task's output. Unparsable or missing inputs are wrong without
    running."""
    runnable = [(task.program, text, task.allowed_imports) for task, text in answers if text is not None]
    executions = iter(_run(runnable, limits))
    results = []
    for task, text in answers:
        execution = next(executions) if text is not None else None
        results.append(bool(execution and execution.ok and execution.value == literal_value(task.output)))
    return results


def make_induction_tasks(
    proposals: list[tuple[str, list[str], str]],
    *,
    limits: Limits = Limits(),
    runs: int = 2,
    allowed_imports: frozenset[str] = ALLOWED_IMPORTS,
) -> list[InductionTask | Validation]:
    """For each `(program, inputs, message)`: the induction task, or a `Validation` without a task
    saying why the proposal is invalid. Every input must validate (AZR requires all proposed inputs)
    with `allowed_imports`, which the task keeps; at least two distinct ones. The reason starts as
    `validate_tasks`' does, with the first invalid input's verdict (`error: ...`, `bad_input: ...`;
    then which input it was), or is `fewer than two distinct inputs`."""
    flat = [(program, text) for program, inputs, _ in proposals for text in inputs]
    validations = iter(validate_tasks(flat, limits=limits, runs=runs, allowed_imports=allowed_imports))
    results: list[InductionTask | Validation] = []
    for program, inputs, message in proposals:
        checked = [next(validations) for _ in inputs]
        failed = next((index for index, v in enumerate(checked) if v.task is None), None)
        if failed is not None:
            results.append(Validation(None, f"{checked[failed].reason} (input {failed + 1} of {len(inputs)})"))
        elif len(_distinct([parse_arguments(text) for text in inputs])) < 2:
            results.append(Validation(None, "fewer than two distinct inputs"))
        else:
            pairs = tuple((v.task.input, v.task.output) for v in checked)
            half = len(pairs) // 2
            results.append(InductionTask(program, pairs[:half], pairs[half:], message, frozenset(allowed_imports)))
    return results


def check_inductions(answers: list[tuple[InductionTask, str | None]], *, limits: Limits = Limits()) -> list[bool]:
    """For each `(task, predicted_program)`: whether the program, run with the task's
    `allowed_imports`, maps every hidden input to its output. A missing program is wrong without
    running."""
    calls = [
        (program, text, task.allowed_imports)
        for task, program in answers
        if program is not None
        for text, _ in task.hidden
    ]
    executions = iter(_run(calls, limits))
    results = []
    for task, program in answers:
        if program is None:
            results.append(False)
            continue
        runs = [next(executions) for _ in task.hidden]
        expected = [literal_value(output) for _, output in task.hidden]
        results.append(all(run.ok and run.value == value for run, value in zip(runs, expected)))
    return results


def check_answers(answers: list[tuple[str, CodeTask, str | None]], *, limits: Limits = Limits()) -> list[bool]:
    """For each `(task_type, task, answer)`: whether the executor verifies the answer, a deduction's
    predicted output (`check_deduction`) or an abduction's predicted input (`check_abductions`, all
    of them in one batch). Missing answers (None) are wrong.

    >>> task = CodeTask("def f(a):\\n    return a % 7", "100", "2")
    >>> check_answers([("deduction", task, "2"), ("abduction", task, "9"), ("abduction", task, None)])
    [True, True, False]
    """
    unknown = {task_type for task_type, _, _ in answers} - {"deduction", "abduction"}
    if unknown:
        raise ValueError(f"check_answers checks deduction and abduction answers, not {sorted(unknown)}")
    abductions = [(task, answer) for task_type, task, answer in answers if task_type == "abduction"]
    verdicts = iter(check_abductions(abductions, limits=limits))
    return [
        next(verdicts) if task_type == "abduction" else check_deduction(task, answer)
        for task_type, task, answer in answers
    ]


def task_record(task: CodeTask) -> dict[str, object]:
    """A task as JSON-ready fields (`program`, `input`, `output`, `allowed_imports` sorted);
    `task_from_record` reads it back."""
    return {"program": task.program, "input": task.input, "output": task.output,
            "allowed_imports": sorted(task.allowed_imports)}  # fmt: skip


def task_from_record(record: dict) -> CodeTask:
    """The `CodeTask` of a record written by `task_record` (extra keys are ignored); raises
    ValueError naming a missing or non-string field."""
    for key in ("program", "input", "output"):
        if not isinstance(record.get(key), str):
            raise ValueError(f"a code task needs a string {key!r}")
    allowed = record.get("allowed_imports")
    return CodeTask(
        record["program"], record["input"], record["output"],
        ALLOWED_IMPORTS if allowed is None else frozenset(allowed),
    )  # fmt: skip
