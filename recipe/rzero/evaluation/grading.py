"""Grade a response against a benchmark item: math equivalence, option letters, BBEH matching, and
code run in the sandbox (CRUXEval's predicted outputs and inputs, HumanEval's tests).

No guessing and no LLM judge: an answer that cannot be read is wrong and is reported as
`unparsed`, never replaced by a random letter (the paper's code did that for multiple choice).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from rzero_rewards import extract_answer, extract_boxed, is_equivalent, normalize_answer
from rzero_rewards.code import ALLOWED_IMPORTS, CodeTask, Execution, run_function
from rzero_rewards.code.literals import literal_value, parse_python
from rzero_rewards.code.tasks import read_literal

from .datasets import BENCHMARKS, EvalItem, FunctionTests

_TEXT_MACRO = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf)\{([^{}]*)\}")
# A box holding an option: `C`, `(C)`, `C.`, `C) 5 m/s`, `(C) 5 m/s`, `Option C`; not `F = ma`.
_LETTER_IN_BOX = re.compile(r"^(?:(?i:option|choice|answer)\s*:?\s*)?(?:\(([A-P])\)|\[([A-P])\]|([A-P])(?=$|[.:)]))")
# An answer statement: "the answer is", "Answer:", "the correct option is", ... (case-insensitive).
_ANSWER_CUE = re.compile(
    r"\banswer(?:\s+(?:is|would\s+be|should\s+be|must\s+be|will\s+be))?\s*[:：]"
    r"|\banswer\s+(?:is|would\s+be|should\s+be|must\s+be|will\s+be)\b"
    r"|\b(?:correct|right|best|final)\s+(?:option|choice)(?:\s+(?:is|would\s+be)\b|\s*[:：])",
    re.IGNORECASE,
)
# What may stand between a cue and its letter: markup, brackets, "option", "choice", "letter".
_LETTER_PREFIX = re.compile(
    r"(?:\s|\*|\$|\\boxed\{|\\text(?:bf)?\{|\\mathrm\{|\(|\[|\b(?:option|choice|letter)\b)*", re.IGNORECASE
)
_LEADING_LETTER = re.compile(r"([A-P])(?![A-Za-z'’])")
_PARENTHESISED_LETTER = re.compile(r"\(([A-P])\)|\*\*([A-P])\*\*|\\boxed\{([A-P])\}")
# A statement that names its letter first: "(D) is the correct answer", "Option C is correct".
_LETTER_IS_ANSWER = re.compile(
    r"(?:\(([A-P])\)|(?i:option|choice)\s+\(?([A-P])\)?|\*\*([A-P])\*\*)\s+is\s+"
    r"(?i:(?:the|my)\s+(?:(?:correct|right|best|final)\s+)?(?:answer|option|choice)|correct|right)\b"
)
_BBEH_PREFIXES = ("The answer is:", "The final answer is ", "The final answer is: ", "The answer is ")


@dataclass(frozen=True)
class Grade:
    """What was read from a response and whether it is right."""

    extracted: str | None
    correct: bool

    @property
    def unparsed(self) -> bool:
        return self.extracted is None


def grade_math(response: str, answers: tuple[str, ...], last_number_fallback: bool = False) -> Grade:
    """The last `\\boxed{}` answer (else, with the fallback, the last number), equivalent
    (math-verify, hard timeout) to any accepted answer.

    One box per solution (issue 12): when an accepted answer is a list of n items (`-4, 6`) and the
    response boxes each item (`\\boxed{-4} and \\boxed{6}`), its last n boxes together are the
    answer. Rewards keep the last box alone (`extract_boxed`).
    """
    extracted = extract_answer(response, last_number_fallback)
    if extracted is None:
        return Grade(None, False)
    if any(is_equivalent(extracted, gold) for gold in answers):
        return Grade(extracted, True)
    boxes = _boxes_last_first(response)
    for gold in answers:
        items = _list_items(gold)
        if 1 < items <= len(boxes):
            together = ", ".join(reversed(boxes[:items]))
            if is_equivalent(together, gold):
                return Grade(together, True)
    return Grade(extracted, False)


def _list_items(answer: str) -> int:
    """How many items `answer` lists at its top level: 2 for `-4, 6`; 1 for `(1, 2)`, `\\{1, 2\\}`, `1,250`."""
    depth, items = 0, 1
    for char in normalize_answer(answer).replace("\\{", "{").replace("\\}", "}"):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items += 1
    return items


def choice_letter(response: str) -> str | None:
    """The option letter of a response, or `None` (unparsed: never a guess). In this order (issue 12):

    1. the last `\\boxed{}` that holds an option: `C`, `(C)`, `C.`, `C) text`, `(C) text`,
       `\\text{C}`, `Option C`; a box holding anything else (`\\boxed{F = ma}`) is skipped;
    2. the last answer statement that names a letter: "the answer is", "Answer:" (the official
       MMLU-Pro and SuperGPQA format), "the correct option is", then either the letter itself
       (after markup, brackets or the word "option": `**G**`, `(E)`, `$\\boxed{D}$`, `option C`), or
       else the first letter in parentheses or bold on the same line ("the answer is a clear (C)");
       or a statement naming the letter first: "(D) is the correct answer", "Option C is correct".
       Letters are capitals: the article "a" and the pronoun in "the answer is I think (C)" are not.

    >>> choice_letter(r"\\boxed{F = ma}, so ... Therefore the answer is (B).")
    'B'
    """
    for box in _boxes_last_first(response):
        match = _LETTER_IN_BOX.match(_TEXT_MACRO.sub(r"\1", box).strip())
        if match:
            return next(group for group in match.groups() if group)
    statements = [(cue.end(), _letter_after(response[cue.end() :])) for cue in _ANSWER_CUE.finditer(response)]
    for named in _LETTER_IS_ANSWER.finditer(response):
        statements.append((named.end(), next(group for group in named.groups() if group)))
    return max(((end, letter) for end, letter in statements if letter), default=(0, None))[1]


def _letter_after(text: str) -> str | None:
    """The letter an answer cue names, reading `text` after it (see `choice_letter`)."""
    # The rest of the cue's line, or the next non-blank line ("Answer:" and the letter below it).
    line = next((line for line in text.split("\n") if line.strip()), "")
    start = _LEADING_LETTER.match(line, _LETTER_PREFIX.match(line).end())
    if start and not (start.group(1) == "I" and re.match(r"I\s+[a-z]", line[start.start() :])):
        return start.group(1)
    inner = _PARENTHESISED_LETTER.search(line)
    return next(group for group in inner.groups() if group) if inner else None


def _boxes_last_first(text: str) -> list[str]:
    """The contents of every `\\boxed{}` or `\\fbox{}`, last first (empty or unclosed ones skipped)."""
    boxes = []
    while (position := max(text.rfind("\\boxed"), text.rfind("\\fbox"))) != -1:
        content = extract_boxed(text)
        if content is not None:
            boxes.append(content)
        text = text[:position]
    return boxes


def grade_choice(response: str, answers: tuple[str, ...]) -> Grade:
    letter = choice_letter(response)
    return Grade(letter, letter is not None and letter in answers)


def _bbeh_strip_latex(text: str) -> str:
    if text.startswith("$") and text.endswith("$"):
        text = text[1:-1]
    for macro in ("boxed{", "text{", "texttt{"):
        if macro in text and text.endswith("}"):
            text = text[:-1].split(macro, 1)[1]
    return text


def bbeh_prediction(response: str) -> str:
    """BBEH's answer reading (its `evaluate.py` rules), after taking our prompt's last `\\boxed{}`."""
    boxed = extract_boxed(response)
    answer = boxed if boxed is not None else response.strip()
    for prefix in _BBEH_PREFIXES:
        if prefix in answer:
            answer = answer.split(prefix)[-1].strip()
    answer = _bbeh_strip_latex(answer.removesuffix("."))
    answer = answer.lower().replace(", ", ",").replace("**", "").split("\n")[0]
    return answer.removesuffix(".")


def bbeh_match(prediction: str, reference: str) -> bool:
    """BBEH's fuzzy equality: `(a)` vs `a`, numbers, quotes, brackets, a trailing question mark."""
    reference = reference.strip().lower().replace(", ", ",")
    if prediction == reference:
        return True
    for one, other in ((prediction, reference), (reference, prediction)):
        if len(one) == 3 and one[0] == "(" and one[-1] == ")":
            return one[1] == other
    try:
        if float(prediction) == float(reference):
            return True
    except ValueError:
        pass
    return (
        prediction.replace("'", "") == reference.replace("'", "")
        or prediction in (f"[{reference}]",)
        or reference == f"[{prediction}]"
        or (prediction.endswith("?") and prediction[:-1] == reference)
    )


def grade_bbeh(response: str, answers: tuple[str, ...]) -> Grade:
    prediction = bbeh_prediction(response)
    return Grade(prediction or None, bool(prediction) and any(bbeh_match(prediction, gold) for gold in answers))


# The code benchmarks run trusted benchmark code with the model's answer in the sandbox
# (`rzero_rewards.code`), under its default limits (5 s wall clock; the official harnesses allow 3 s).
# CRUXEval's function `f` is called through this one, added to the program.
CRUXEVAL_CALL = "_cruxeval_call"
# CRUXEval sample_782 names a parameter `input`.
CRUXEVAL_BUILTINS = frozenset({"input"})
# HumanEval's tests import random and hashlib (HumanEval/32, 38, 50, 53, 162), its reference
# solution of HumanEval/160 calls eval, and statistics is how solutions take a median. A solution
# importing anything else (os, sys, numpy) fails, where the official harness would run it.
HUMANEVAL_IMPORTS = ALLOWED_IMPORTS | {"hashlib", "random", "statistics"}
HUMANEVAL_BUILTINS = frozenset({"eval"})
# What a HumanEval solution that defines its function keeps, as EvalPlus's sanitizer does: imports,
# functions, classes and assignments; a `__main__` block, prints and example calls go.
_DEFINITIONS = (
    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign
)
_FENCED_BLOCK = re.compile(r"```[\w+-]*[^\S\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def cruxeval_answer(response: str) -> str | None:
    """The answer of a CRUXEval response, read as the official harness reads it: the text after the
    first `[ANSWER]` (up to `[/ANSWER]`, where generation stops), else the last non-blank line.
    Code-fence lines in it are dropped. `None` for an empty response."""
    if "[ANSWER]" in response:
        text = response.split("[ANSWER]", 1)[1].split("[/ANSWER]", 1)[0]
    else:
        text = next((line for line in reversed(response.splitlines()) if line.strip()), "")
    text = "\n".join(line for line in text.strip().splitlines() if not line.lstrip().startswith("```"))
    return text.strip() or None


def _is_call_of_f(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "f"


def _parse(source: str) -> list[ast.stmt] | None:
    """The statements of `source`, or None when it does not parse (or is too deep to)."""
    try:
        return parse_python(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def assertion_sides(answer: str) -> tuple[ast.expr | None, ast.expr | None]:
    """`(call, value)` of a CRUXEval answer `assert f(...) == value` (either order): the call of `f`
    and the other side. A bare expression is the call when it calls `f`, else the value. The first
    statement of the answer counts (when the answer does not parse, its first line starting with
    `assert`); anything else gives `(None, None)`."""
    statements = _parse(answer)
    if statements is None:
        asserts = [line.strip() for line in answer.splitlines() if line.strip().startswith("assert")]
        statements = _parse(asserts[0]) if asserts else None
    if not statements:
        return None, None
    statement = statements[0]
    if isinstance(statement, ast.Expr):
        return (statement.value, None) if _is_call_of_f(statement.value) else (None, statement.value)
    test = statement.test if isinstance(statement, ast.Assert) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None, None
    left, right = test.left, test.comparators[0]
    if _is_call_of_f(right) and not _is_call_of_f(left):
        return right, left
    return (left if _is_call_of_f(left) else None), right


def _unparsed_when_too_deep(grader: Callable[[str, object], Grade]) -> Callable[[str, object], Grade]:
    """An answer nested too deeply to rebuild (`ast.unparse`) or read is unparsed, not a crash."""

    @functools.wraps(grader)
    def guarded(response: str, task: object) -> Grade:
        try:
            return grader(response, task)
        except RecursionError:
            return Grade(None, False)

    return guarded


def _run_call(task: CodeTask, call: str) -> Execution:
    """Run `call` (an expression calling `f`) after the task's program, in the sandbox."""
    program = f"{task.program}\n\n\ndef {CRUXEVAL_CALL}():\n    return {call}\n"
    return run_function(program, "", entry=CRUXEVAL_CALL, allowed_builtins=CRUXEVAL_BUILTINS)


@_unparsed_when_too_deep
def grade_output_prediction(response: str, task: CodeTask) -> Grade:
    """CRUXEval-O: the predicted output, a Python literal (the prompt asks for one; an expression is
    wrong), equals by value what `f(input)` returns when run in the sandbox."""
    answer = cruxeval_answer(response)
    _, value = assertion_sides(answer) if answer else (None, None)
    if value is None:
        return Grade(None, False)
    readable, predicted = read_literal(ast.unparse(value))
    if not readable:
        return Grade(ast.unparse(value), False)
    execution = _run_call(task, f"f({task.input})")
    return Grade(ast.unparse(value), execution.ok and predicted == execution.value)


@_unparsed_when_too_deep
def grade_input_prediction(response: str, task: CodeTask) -> Grade:
    """CRUXEval-I: `f(<predicted input>)`, run in the sandbox, equals the given output by value.
    Any input that does is right; the call is rebuilt from its syntax tree, so an answer can only
    call `f` (and what it passes is checked and run like any program in the sandbox)."""
    answer = cruxeval_answer(response)
    call, _ = assertion_sides(answer) if answer else (None, None)
    if call is None:
        return Grade(None, False)
    execution = _run_call(task, ast.unparse(call))
    return Grade(ast.unparse(call), execution.ok and execution.value == literal_value(task.output))


def humaneval_completion(response: str, entry_point: str) -> str | None:
    """The code of a HumanEval response: the last fenced block that defines `entry_point`, else the
    last fenced block, else the whole response (a completion of the prompt). `None` when empty."""
    blocks = _FENCED_BLOCK.findall(response)
    code = ([block for block in blocks if _defines(block, entry_point)] or blocks or [response])[-1]
    return code if code.strip() else None


def _defines(code: str, name: str) -> bool:
    """Whether `code` defines the function `name` at its top level."""
    return re.search(rf"^def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None


def _definitions(code: str) -> str:
    """The imports, functions, classes and assignments of `code` (`code` itself if it does not parse)."""
    statements = _parse(code)
    if statements is None:
        return code
    return "\n\n".join(ast.unparse(node) for node in statements if isinstance(node, _DEFINITIONS)) + "\n"


@_unparsed_when_too_deep
def grade_humaneval(response: str, tests: FunctionTests) -> Grade:
    """HumanEval: the completion passes the problem's tests in the sandbox (pass@1). A completion
    that defines the function keeps its definitions (`_DEFINITIONS`) and follows the problem's
    prompt (whose imports and helpers it may use); one that does not completes the prompt's
    function, as in the official harness."""
    code = humaneval_completion(response, tests.entry_point)
    if code is None:
        return Grade(None, False)
    defines = _defines(code, tests.entry_point)
    program = tests.prompt + ("\n" + _definitions(code) if defines else code)
    script = f"{program}\n\n{tests.test}\n\ncheck({tests.entry_point})\n"
    execution = run_function(
        script, None, entry=None, allowed_imports=HUMANEVAL_IMPORTS, allowed_builtins=HUMANEVAL_BUILTINS
    )
    return Grade(code, execution.ok)


def grade(item: EvalItem, response: str, last_number_fallback: bool = False) -> Grade:
    """Grade `response` by the rules of `item`'s answer kind (the fallback applies to math only)."""
    if item.kind == "math":
        return grade_math(response, item.answers, last_number_fallback)
    if item.kind == "choice":
        return grade_choice(response, item.answers)
    if item.kind == "output_prediction":
        return grade_output_prediction(response, item.task)
    if item.kind == "input_prediction":
        return grade_input_prediction(response, item.task)
    if item.kind == "code_generation":
        return grade_humaneval(response, item.task)
    return grade_bbeh(response, item.answers)


def reference_response(item: EvalItem) -> str:
    """A response made from the item's own reference, for the self-check: the worked solution where the
    benchmark's solutions box their final answer (this exercises extraction and equivalence between
    two spellings), else the reference answer in a box (this exercises extraction and grading).
    CRUXEval: the benchmark's assertion `f(input) == output` as the answer; HumanEval: the reference
    solution in a code block (both run in the sandbox)."""
    if item.kind in ("output_prediction", "input_prediction"):
        return f"[THOUGHT]\n[/THOUGHT]\n[ANSWER]\nassert f({item.task.input}) == {item.task.output}\n[/ANSWER]"
    if item.kind == "code_generation":
        return f"Here it is:\n```python\n{item.answers[0]}```\n"
    solution = item.solution or ""
    if BENCHMARKS[item.benchmark].solutions_box_answers and extract_boxed(solution) is not None:
        return solution
    if item.kind == "bbeh":
        return f"The answer is: {item.answers[0]}"
    return f"The answer is \\boxed{{{item.answers[0]}}}."
