"""Mathematical answer equivalence: a fast string path, then math-verify under a hard timeout.

`is_equivalent` is safe from any thread, asyncio executor, Ray worker or subprocess: the slow
comparisons run in killable worker processes (`_verify_worker`, pooled by `_worker_pool`), and a
comparison that exceeds its time budget kills its worker, counts as *not* equivalent and is
counted in `equivalence_stats`.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
from collections import Counter
from fractions import Fraction
from functools import lru_cache

from ._worker_pool import WorkerPool, package_parent

# Exact values needing more bits than this (e.g. 9^{9^{9^{9}}}) are not computed, here or by math-verify.
MAX_EXACT_BITS = 100_000
_TOKEN = re.compile(r"\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\\[a-zA-Z]+|[-+*/^(){}!])")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# LaTeX that never changes an answer's value: spacing, sizing, math-mode delimiters.
_INVISIBLE = re.compile(r"\\left|\\right|\\[!,;: ]|\\displaystyle|\$|\s+")
_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|textrm|mathrm|mathbf|boldsymbol|mbox)\{([^{}]*)\}$")
# Unicode spellings of LaTeX: the minus sign, times, middle dot, division sign; LaTeX's `{,}` comma.
_UNICODE = str.maketrans({"−": "-", "×": "\\times ", "·": "\\cdot ", "÷": "\\div "})
# Currency signs, percent signs and degree marks: dropped wherever they are (see `normalize_answer`).
_DECORATION = re.compile(
    r"\\\$|\\text\{\s*\\?[$€£¥]\s*\}|\\(?:pounds|euro|yen|textdollar)(?![a-zA-Z])|[€£¥₹]|\\%|%"
    # a degree mark, with its scale if any: `90^\circ`, `90^{\circ}`, `-5°C`, `20^\circ\text{F}`
    r"|(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![a-zA-Z]))(?:\s*(?:\\(?:text|mathrm)\{\s*[CFK]\s*\}|[CFK](?![A-Za-z])))?"
)
_CURRENCY_CODE = re.compile(r"^(?:USD|US|Rs\.?|INR|EUR|GBP)\s*(?=[\d.])")
# Euler's number and the imaginary unit set upright (`2\mathrm{e}`, `4\mathrm{i}`): constants, not units.
_UPRIGHT_CONSTANT = re.compile(r"\\(?:mathrm|text|textrm|operatorname)\{\s*([ei])\s*\}")
# A unit after a number: `18\text{ dollars}`, `5\,\mathrm{cm}^2`, `3 \mbox{ apples}`.
_UNIT_TEXT = re.compile(r"(?<=[\d}).])\s*(?:\\[,;: ]\s*)*\\(?:text|textrm|mathrm|mbox)\{[^{}]*\}(?:\^\{?\d\}?)?\s*$")
# Words after a number: `18 dollars`, `2 square feet`, `35 percent` (kept only when a number remains). The
# first word has three letters or more, so `2 pi` and `3 + 4 i` keep their constant.
_UNIT_WORDS = re.compile(r"^(.*?[\d}])\s+([A-Za-z]{3,}[A-Za-z .]*)$")
# Words that change the value, so never a unit: magnitudes (`10 million`), functions (`2 log x`),
# operators (`5 and x`), constants; and any one-letter word but the article, a variable (`2 times x`).
_NOT_UNITS = frozenset(
    "inf infinity sqrt hundred thousand million billion trillion dozen and plus minus pi sin cos tan cot sec "
    "csc log ln exp arcsin arccos arctan sinh cosh tanh".split()
)

_stats: Counter[str] = Counter()
_stats_lock = threading.Lock()


def _count(event: str) -> None:
    with _stats_lock:
        _stats[event] += 1


def equivalence_stats() -> dict[str, int]:
    """Counts since start (or the last reset): `calls`, `fast_path` (settled without math-verify),
    `math_verify`, `timeouts` (comparisons that ran out of time or met an answer that had),
    `too_large` (exact values too large to compute). A rising `timeouts` means answers that
    math-verify cannot settle in time."""
    with _stats_lock:
        return dict(_stats)


def reset_equivalence_stats() -> None:
    """Zero the counters of `equivalence_stats`."""
    with _stats_lock:
        _stats.clear()



@lru_cache(maxsize=1 << 16)
def normalize_answer(answer: str) -> str:
    """A canonical spelling: same string here implies the same value (the fast path's key).

    - Drops math-mode delimiters, spacing macros, `\\left`/`\\right`, `\\displaystyle`, a trailing
      period and thousands separators (`1,250`, `32,\\!348`; not `1, 250`, a list); unifies
      `\\dfrac`/`\\tfrac` with `\\frac`; unwraps a lone `\\text{...}`; spells `−`, `×`, `·`, `÷`
      and `{,}` as LaTeX does.
    - Currency, percent and degree signs are dropped wherever they are (`\\$18`, `€18`, `35\\%`,
      `90^\\circ`), as MATH's and Qwen2.5-Math's graders do; so `35\\%` equals `35`, not `0.35`
      (issue 12).
    - A unit after a number is dropped, so units are not compared (as in those graders):
      `18\\text{ dollars}`, `5\\mathrm{cm}^2`, and plain words of three letters or more
      (`18 dollars`, `2 square feet`) when a number remains. Upright `\\mathrm{e}` and
      `\\mathrm{i}` are the constants `e` and `i`, not units (math-verify would drop them).

    >>> normalize_answer(r"\\$32,\\!348.")
    '32348'
    >>> normalize_answer(r"35\\%"), normalize_answer("90^{\\\\circ}"), normalize_answer("2 square feet")
    ('35', '90', '2')
    """
    text = answer.strip().translate(_UNICODE).replace("{,}", ",")
    text = _UPRIGHT_CONSTANT.sub(r"\1", _DECORATION.sub("", text))
    text = _CURRENCY_CODE.sub("", text)
    wrapped = _TEXT_WRAPPER.match(text.strip())
    if wrapped:
        text = wrapped.group(1)
    for _ in range(2):  # `5 \text{ m}^2 \text{ each}`
        text = _UNIT_TEXT.sub("", text)
    text = text.strip().rstrip(".").strip()
    words = _UNIT_WORDS.match(text)
    if words and _are_units(words.group(2)):
        number = _canonical(words.group(1))
        if isinstance(_exact_value(number), Fraction):
            return number
    return _canonical(text)


def _are_units(words: str) -> bool:
    """Whether the words after a number name its unit (`square feet`), not a value (`million`, `log x`)."""
    return not any(
        (len(word) == 1 and word != "a") or word.lower() in _NOT_UNITS for word in words.replace(".", " ").split()
    )


def _canonical(text: str) -> str:
    """Invisible LaTeX removed, fractions unified, thousands separators dropped.

    A comma followed by white space separates list items (`-4, 6`, `1, 250`), and stays `, ` so
    math-verify reads a list too; other commas between digit groups are thousands separators.
    """
    if re.search(r",\s", text):
        return ", ".join(_canonical(part) for part in re.split(r",\s+", text))
    text = _INVISIBLE.sub("", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    wrapped = _TEXT_WRAPPER.match(text)
    if wrapped:
        text = wrapped.group(1)
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    return text.rstrip(".")


class _TooLarge(Exception):
    """An exact value would need more than `MAX_EXACT_BITS` bits."""


class _NotExact(Exception):
    """Not an arithmetic expression of rational numbers (or undefined, like 1/0)."""


def _bits(value: Fraction) -> int:
    return max(abs(value.numerator).bit_length(), value.denominator.bit_length())


class _ExactParser:
    """Recursive descent over the arithmetic of rational numbers, as answers spell it.

    Grammar (LaTeX's, after `normalize_answer`): sums and differences; products with `*`,
    `\\times`, `\\cdot`, quotients with `/`, `\\div`; unary signs; `\\frac{a}{b}`; `a^{n}` or
    `a^d` with an integer exponent; `n!`; parentheses and braces; decimals and `1.5e3`. Anything
    else (a variable, a root, juxtaposition) is not exact and is left to math-verify.
    """

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise _NotExact(text)
            self.tokens.append(match.group(1))
            position = match.end()
        self.index = 0

    def _peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise _NotExact(expected or "end")
        self.index += 1
        return token

    def value(self) -> Fraction:
        result = self._sum()
        if self._peek() is not None:
            raise _NotExact(self._peek())
        return result

    def _sum(self) -> Fraction:
        total = self._product()
        while self._peek() in ("+", "-"):
            sign = self._take()
            term = self._product()
            total = total + term if sign == "+" else total - term
        return total

    def _product(self) -> Fraction:
        total = self._signed()
        while self._peek() in ("*", "\\times", "\\cdot", "/", "\\div"):
            operator = self._take()
            factor = self._signed()
            if operator in ("/", "\\div"):
                if factor == 0:
                    raise _NotExact("division by zero")
                total = total / factor
            else:
                total = total * factor
            if _bits(total) > MAX_EXACT_BITS:
                raise _TooLarge
        return total

    def _signed(self) -> Fraction:
        if self._peek() in ("+", "-"):
            return -self._signed() if self._take() == "-" else self._signed()
        return self._power()

    def _power(self) -> Fraction:
        base = self._factorials(self._atom())
        if self._peek() != "^":
            return base
        self._take()
        if self._peek() == "{":
            exponent = self._group()
        else:
            digit = self._take()
            if not (digit.isdigit() and len(digit) == 1):  # `5^30` is 5³·0 in LaTeX: not a number
                raise _NotExact(digit)
            exponent = Fraction(int(digit))
        if exponent.denominator != 1:
            raise _NotExact("fractional power")
        power = int(exponent)
        if base == 0 and power < 0:
            raise _NotExact("division by zero")
        if abs(base) not in (0, 1) and abs(power) * _bits(base) > MAX_EXACT_BITS:
            raise _TooLarge
        return self._factorials(base**power)

    def _factorials(self, value: Fraction) -> Fraction:
        while self._peek() == "!":
            self._take()
            if value.denominator != 1 or value < 0:
                raise _NotExact("factorial of a non-natural number")
            n = int(value)
            if n > 2 and n * math.log2(n) > MAX_EXACT_BITS:
                raise _TooLarge
            value = Fraction(math.factorial(n))
        return value

    def _group(self) -> Fraction:
        self._take("{")
        value = self._sum()
        self._take("}")
        return value

    def _atom(self) -> Fraction:
        token = self._peek()
        if token == "{":
            return self._group()
        if token == "(":
            self._take()
            value = self._sum()
            self._take(")")
            return value
        if token == "\\frac":
            self._take()
            numerator, denominator = self._group(), self._group()
            if denominator == 0:
                raise _NotExact("division by zero")
            return numerator / denominator
        token = self._take()
        if not (token[0].isdigit() or token[0] == "."):
            raise _NotExact(token)
        mantissa, _, exponent = token.lower().partition("e")
        if exponent and abs(int(exponent)) * 3.33 > MAX_EXACT_BITS:
            raise _TooLarge
        return Fraction(token)


_TOO_LARGE = "too large"
_NUMBER_POWER = re.compile(r"(?<![\w.])\d+(?:\.\d*)?\^\{")


@lru_cache(maxsize=1 << 16)
def _exact_value(answer: str) -> Fraction | str | None:
    """The exact rational value of a normalised answer, `"too large"`, or `None` if it has none.

    Arithmetic of rational numbers is evaluated exactly (`\\frac{1}{5^{30}}`, `8.7\\times10^{8}`,
    `2^{-3}`, `5!`, `-(3/4)`); a value needing more than `MAX_EXACT_BITS` bits is `"too large"`
    (math-verify's sympy would compute it and hang: `9^{9^{9^{9}}}`), and so is any answer with such
    a power of numbers inside (`\\sqrt{9^{9^{9^{9}}}}`, `x + 2^{10^{10}}`); anything else is `None`.

    >>> _exact_value(r"\\frac{1}{5^{3}}")
    Fraction(1, 125)
    >>> _exact_value(r"2\\sqrt{2}") is None
    True
    """
    try:
        return _ExactParser(answer).value()
    except _TooLarge:
        return _TOO_LARGE
    except (_NotExact, RecursionError, ValueError, ZeroDivisionError, OverflowError):
        return _TOO_LARGE if any(_exact_value(power) == _TOO_LARGE for power in _number_powers(answer)) else None


def _number_powers(answer: str) -> list[str]:
    """Every `n^{...}` with a number `n` inside `answer` (`x + 2^{10^{10}}` → `2^{10^{10}}`)."""
    powers = []
    for match in _NUMBER_POWER.finditer(answer):
        depth = 0
        for index in range(match.end() - 1, len(answer)):
            depth += {"{": 1, "}": -1}.get(answer[index], 0)
            if depth == 0:
                if match.start() > 0 or index + 1 < len(answer):  # a part, not the whole answer
                    powers.append(answer[match.start() : index + 1])
                break
    return powers


def _launch_verify_worker() -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": package_parent() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return [sys.executable, "-m", "rzero_rewards._verify_worker"], env


_pool = WorkerPool(
    _launch_verify_worker, int(os.environ.get("RZERO_VERIFY_WORKERS", os.cpu_count() or 1)), "math-verify"
)
# What the worker reports, in order, for one comparison (`_verify_worker.main`): then `true`/`false`.
_VERIFY_STEPS = ("gold", "answer", "verify")
# Answers whose parse by math-verify ran out of time, with the largest budget it exceeded: parsing
# is deterministic, so every later comparison with them would too, and fails at once instead.
_slow_to_parse: dict[str, float] = {}


@lru_cache(maxsize=1 << 16)
def _math_verify_equivalent(answer: str, reference: str, timeout_s: float) -> bool:
    if any(_slow_to_parse.get(side, -1.0) >= timeout_s for side in (answer, reference)):
        _count("timeouts")
        return False
    _count("math_verify")
    replies = _pool.exchange(json.dumps([reference, answer]), len(_VERIFY_STEPS), timeout_s)
    if len(replies) == len(_VERIFY_STEPS) and replies[-1] in ("true", "false"):
        return replies[-1] == "true"
    _count("timeouts")
    hung = _VERIFY_STEPS[len(replies)] if len(replies) < len(_VERIFY_STEPS) else "verify"
    if hung in ("gold", "answer"):
        side = reference if hung == "gold" else answer
        with _stats_lock:
            _slow_to_parse[side] = max(timeout_s, _slow_to_parse.get(side, 0.0))
    return False


def is_equivalent(answer: str | None, reference: str | None, timeout_s: float = 5.0) -> bool:
    """Whether `answer` has the same mathematical value as `reference` (the gold side).

    In order (issue 12):
    1. `None` or blank on either side is never equivalent; equal `normalize_answer` spellings are.
    2. Two arithmetic expressions of rational numbers are compared exactly (`0.5` = `\\frac{1}{2}`,
       `\\frac{1}{5^{30}}` ≠ `\\frac{1}{5^{31}}`, which math-verify's float tolerance would equate).
       A value too large to compute (more than `MAX_EXACT_BITS` bits, such as `9^{9^{9^{9}}}`)
       equals only its own spelling and is counted in `equivalence_stats()["too_large"]`.
    3. Everything else goes to math-verify, `verify(parse(reference), parse(answer))`, in a killable
       worker process. Parsing each side and verifying each get `timeout_s` seconds (as in
       math-verify's own `parsing_timeout` and `timeout_seconds`); a step that runs out of time
       is killed, the pair counts as not equivalent and in `equivalence_stats()["timeouts"]`, and
       an answer whose parse ran out of time fails every later comparison at once (also counted).

    >>> is_equivalent("0.5", r"\\frac{1}{2}"), is_equivalent(r"\\$1,250", "1250")
    (True, True)
    """
    _count("calls")
    if answer is None or reference is None:
        return False
    answer_norm, reference_norm = normalize_answer(answer), normalize_answer(reference)
    if not answer_norm or not reference_norm:
        return False
    if answer_norm == reference_norm:
        _count("fast_path")
        return True
    answer_value, reference_value = _exact_value(answer_norm), _exact_value(reference_norm)
    if _TOO_LARGE in (answer_value, reference_value):
        _count("too_large")
        return False
    if answer_value is not None and reference_value is not None:
        _count("fast_path")
        return answer_value == reference_value
    return _math_verify_equivalent(answer_norm, reference_norm, timeout_s)
