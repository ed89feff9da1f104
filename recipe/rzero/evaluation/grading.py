"""Grade a response against a benchmark item: math equivalence, option letters, BBEH matching.

No guessing and no LLM judge: an answer that cannot be read is wrong and is reported as
`unparsed`, never replaced by a random letter (the paper's code did that for multiple choice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rzero_rewards import extract_answer, extract_boxed, is_equivalent, normalize_answer

from .datasets import BENCHMARKS, EvalItem

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


def grade(item: EvalItem, response: str, last_number_fallback: bool = False) -> Grade:
    """Grade `response` by the rules of `item`'s answer kind (the fallback applies to math only)."""
    if item.kind == "math":
        return grade_math(response, item.answers, last_number_fallback)
    if item.kind == "choice":
        return grade_choice(response, item.answers)
    return grade_bbeh(response, item.answers)


def reference_response(item: EvalItem) -> str:
    """A response made from the item's own reference, for the self-check: the worked solution where the
    benchmark's solutions box their final answer (this exercises extraction and equivalence between
    two spellings), else the reference answer in a box (this exercises extraction and grading)."""
    solution = item.solution or ""
    if BENCHMARKS[item.benchmark].solutions_box_answers and extract_boxed(solution) is not None:
        return solution
    if item.kind == "bbeh":
        return f"The answer is: {item.answers[0]}"
    return f"The answer is \\boxed{{{item.answers[0]}}}."
