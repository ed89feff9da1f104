"""Grade a response against a benchmark item: math equivalence, option letters, BBEH matching.

No guessing and no LLM judge: an answer that cannot be read is wrong and is reported as
`unparsed`, never replaced by a random letter (the paper's code did that for multiple choice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rzero_rewards import extract_answer, extract_boxed, is_equivalent

from .datasets import BENCHMARKS, EvalItem

_TEXT_MACRO = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}")
_LETTER_IN_BOX = re.compile(r"^\(?([A-P])\)?(?:[.:)\s]|$)")
_ANSWER_IS = re.compile(r"answer is[:\s]*\(?\*{0,2}([A-P])\b\)?", re.IGNORECASE)
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
    (math-verify, hard timeout) to any accepted answer."""
    extracted = extract_answer(response, last_number_fallback)
    return Grade(extracted, extracted is not None and any(is_equivalent(extracted, gold) for gold in answers))


def choice_letter(response: str) -> str | None:
    """The option letter: from the last `\\boxed{}`, else from the last "the answer is (X)"."""
    boxed = extract_boxed(response)
    if boxed is not None:
        match = _LETTER_IN_BOX.match(_TEXT_MACRO.sub(r"\1", boxed).strip())
        if match:
            return match.group(1)
    matches = _ANSWER_IS.findall(response)
    return matches[-1].upper() if matches else None


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
