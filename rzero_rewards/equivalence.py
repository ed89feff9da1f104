"""Mathematical answer equivalence: a fast string path, then math-verify under a hard timeout.

`is_equivalent` is safe from any thread, asyncio executor, Ray worker or subprocess: the slow
comparisons run in killable worker processes (`_verify_worker`, pooled by `_worker_pool`), and a
comparison that exceeds its time budget kills its worker, counts as *not* equivalent and is
counted in `equivalence_stats`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections import Counter
from fractions import Fraction
from functools import lru_cache

from ._worker_pool import WorkerPool, package_parent

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SCIENTIFIC = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:\\times|\\cdot)10\^\{?([+-]?\d+)\}?")
_FRACTION = re.compile(r"([+-]?)(?:\\frac\{(\d+)\}\{(\d+)\}|(\d+)/(\d+))")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# LaTeX that never changes an answer's value: spacing, sizing, math-mode delimiters.
_INVISIBLE = re.compile(r"\\left|\\right|\\[!,;: ]|\\displaystyle|\$|\s+")
_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}$")

_stats: Counter[str] = Counter()
_stats_lock = threading.Lock()


def _count(event: str) -> None:
    with _stats_lock:
        _stats[event] += 1


def equivalence_stats() -> dict[str, int]:
    """Counts since start (or the last reset): `calls`, `fast_path`, `math_verify`, `timeouts`,
    `worker_errors`. A rising `timeouts` means answers that math-verify cannot settle in time."""
    with _stats_lock:
        return dict(_stats)


def reset_equivalence_stats() -> None:
    """Zero the counters of `equivalence_stats`."""
    with _stats_lock:
        _stats.clear()


def normalize_answer(answer: str) -> str:
    """A canonical spelling for the fast path: same string here implies the same value.

    Removes math-mode delimiters, spacing macros and `\\left`/`\\right`, unifies `\\dfrac`/`\\tfrac`
    with `\\frac`, unwraps a lone `\\text{...}`, drops a trailing period and thousands separators.
    """
    text = answer.strip().rstrip(".")
    text = _INVISIBLE.sub("", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    wrapped = _TEXT_WRAPPER.match(text)
    if wrapped:
        text = wrapped.group(1).strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    return text


def _as_number(text: str) -> Fraction | None:
    """The exact value of a plain number (`-3`, `0.25`, `8.7e8`, `8.7\\times10^{8}`) or an integer
    fraction (`3/4`, `\\frac{3}{4}`)."""
    if _NUMBER.fullmatch(text):
        return Fraction(text)
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        return Fraction(scientific.group(1)) * Fraction(10) ** int(scientific.group(2))
    fraction = _FRACTION.fullmatch(text)
    if fraction is None:
        return None
    sign, *parts = fraction.groups()
    numerator, denominator = (int(part) for part in parts if part is not None)
    if denominator == 0:
        return None
    return Fraction(-numerator if sign == "-" else numerator, denominator)


def _launch_verify_worker() -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": package_parent() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return [sys.executable, "-m", "rzero_rewards._verify_worker"], env


_pool = WorkerPool(
    _launch_verify_worker, int(os.environ.get("RZERO_VERIFY_WORKERS", os.cpu_count() or 1)), "math-verify"
)


@lru_cache(maxsize=1 << 16)
def _math_verify_equivalent(answer: str, reference: str, timeout_s: float) -> bool:
    _count("math_verify")
    reply = _pool.request(json.dumps([reference, answer]), timeout_s)
    if reply not in ("true", "false"):
        _count("timeouts")
        return False
    return reply == "true"


def is_equivalent(answer: str | None, reference: str | None, timeout_s: float = 5.0) -> bool:
    """Whether `answer` has the same mathematical value as `reference` (the gold side).

    Equal normalised strings are equivalent, and two plain numbers or integer fractions are
    compared exactly, without
    calling math-verify; everything else goes to math-verify's `verify(parse(reference),
    parse(answer))`. `None` or blank on either side is never equivalent. A comparison that takes
    longer than `timeout_s` seconds is killed and counts as not equivalent (see
    `equivalence_stats()["timeouts"]`).

    >>> is_equivalent("0.5", r"\\frac{1}{2}")
    True
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
    answer_number, reference_number = _as_number(answer_norm), _as_number(reference_norm)
    if answer_number is not None and reference_number is not None:
        _count("fast_path")
        return answer_number == reference_number
    return _math_verify_equivalent(answer_norm, reference_norm, timeout_s)
