"""Extract the parts of a model's output that R-Zero grades: the `\\boxed{}` answer and the `<question>`.

Both extractors are linear-time string scans (no backtracking regular expressions), so a 1 MB
output or ten thousand nested braces cost milliseconds, and they never raise on any `str`.
"""

from __future__ import annotations

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_QUESTION_OPEN = "<question>"
_QUESTION_CLOSE = "</question>"


def _last_box_command(text: str) -> tuple[int, int] | None:
    """Start and end index of the last `\\boxed`/`\\fbox` command name in `text`."""
    best: tuple[int, int] | None = None
    for command in _BOX_COMMANDS:
        start = text.rfind(command)
        while start != -1:
            end = start + len(command)
            # `\boxedfoo` is another macro, not a box: the name must end here.
            if end >= len(text) or not text[end].isalpha():
                if best is None or start > best[0]:
                    best = (start, end)
                break
            start = text.rfind(command, 0, start)
    return best


def _braced_content(text: str, open_index: int) -> str | None:
    """Content of the balanced `{...}` group opening at `open_index`; `None` if it never closes.

    Escaped braces (`\\{`, `\\}`) are content, not structure.
    """
    depth = 0
    index = open_index
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : index]
        index += 1
    return None


def extract_boxed(text: str) -> str | None:
    """Return the content of the last `\\boxed{...}` (or `\\fbox{...}`, or `\\boxed x`) in `text`.

    Nested braces are balanced, so `\\boxed{\\frac{1}{2}}` gives `\\frac{1}{2}`. Returns `None`
    when there is no box, when the last box never closes, or when it is empty.

    >>> extract_boxed(r"so \\boxed{3} or rather \\boxed{\\frac{1}{2}}")
    '\\\\frac{1}{2}'
    >>> extract_boxed(r"the answer is \\boxed 5.")
    '5'
    """
    found = _last_box_command(text)
    if found is None:
        return None
    _, index = found
    while index < len(text) and text[index] in " \t":
        index += 1
    if index >= len(text):
        return None
    if text[index] == "{":
        content = _braced_content(text, index)
    else:
        # `\boxed 5`: the argument is the next token, up to white space or the end of math mode.
        end = index
        while end < len(text) and not text[end].isspace() and text[end] != "$":
            end += 1
        content = text[index:end].rstrip(".,;")
    if content is None:
        return None
    content = content.strip()
    return content or None


def extract_question(text: str) -> str | None:
    """Return the stripped content of the last complete `<question>...</question>` in `text`.

    The last pair wins (as in the paper's code), so a Challenger that drafts and then rewrites
    is graded on its final question. Returns `None` when there is no pair or it is blank.
    """
    end = text.rfind(_QUESTION_CLOSE)
    if end == -1:
        return None
    start = text.rfind(_QUESTION_OPEN, 0, end)
    if start == -1:
        return None
    question = text[start + len(_QUESTION_OPEN) : end].strip()
    return question or None


def _last_number(text: str) -> str | None:
    """The last number in `text` (digits with optional sign, thousands commas, decimals), commas removed."""
    end = len(text)
    while end > 0:
        while end > 0 and not text[end - 1].isdigit():
            end -= 1
        if end == 0:
            return None
        start = end
        while start > 0 and (text[start - 1].isdigit() or text[start - 1] in ".,"):
            start -= 1
        number = text[start:end].strip(".,").replace(",", "")
        # A minus sign, not a subtraction: nothing or a space/bracket/equals sign before it.
        if start > 0 and text[start - 1] == "-" and (start < 2 or text[start - 2] in " \t\n(=$"):
            number = "-" + number
        if number.strip("-"):
            return number
        end = start
    return None


def extract_answer(text: str, last_number_fallback: bool = False) -> str | None:
    """The graded answer: the last `\\boxed{}`; with `last_number_fallback`, else the last number.

    The fallback is off in the paper (and by default here); it lets models too small to write
    `\\boxed{}` (the embedded SmolLM2-135M) produce votes, pseudo-labels and rewards at all.

    >>> extract_answer("6 × 7 = 42, which is the answer.", last_number_fallback=True)
    '42'
    >>> extract_answer("She has 1,250.5 left; then -3.", last_number_fallback=True)
    '-3'
    >>> extract_answer("so 9-3", last_number_fallback=True)
    '3'
    >>> extract_answer("It is \\\\boxed{7}, not 8.", last_number_fallback=True)
    '7'
    >>> extract_answer("6 × 7 = 42") is None
    True
    """
    boxed = extract_boxed(text)
    if boxed is not None or not last_number_fallback:
        return boxed
    return _last_number(text)
