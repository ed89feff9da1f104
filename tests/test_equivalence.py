"""Answer equivalence: regression table, fast path, hard timeouts from threads and processes."""

import concurrent.futures
import time

import pytest

from rzero_rewards import equivalence_stats, is_equivalent, normalize_answer, reset_equivalence_stats

EQUIVALENCE_CASES = [
    # (answer, reference, expected)
    ("42", "42", True),
    ("42.0", "42", True),
    ("1,000", "1000", True),  # thousands separator
    ("0.5", r"\frac{1}{2}", True),  # decimal vs LaTeX fraction
    (r"\dfrac{1}{2}", r"\frac12", True),
    ("1/2", "0.5", True),
    (r"\frac{\sqrt{2}}{2}", r"\sqrt{2}/2", True),
    (r"\{1, 2\}", r"\{2, 1\}", True),  # sets are unordered
    ("[0, 1)", "[0,1)", True),  # intervals
    ("[0, 1)", "(0, 1]", False),
    ("x = 3", "3", True),
    (r"\text{5}", "5", True),
    ("$7$", "7", True),
    ("12", "13", False),
    ("3/0", "3/0", True),  # same spelling, whatever it means
    ("3/0", "1", False),
    ("84", "12 \\times 7", True),
    ("2\\pi", "6.283185307", True),
    ("-3", "3", False),
    ("π", r"\pi", True),  # unicode
    ("no answer", "5", False),
    (None, "5", False),
    ("5", None, False),
    ("", "", False),
    ("   ", "5", False),
]


@pytest.mark.parametrize(("answer", "reference", "expected"), EQUIVALENCE_CASES)
def test_is_equivalent(answer, reference, expected):
    assert is_equivalent(answer, reference) is expected


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [(" $\\left( 1,2 \\right)$ ", "(1,2)"), ("\\dfrac{3}{4}.", "\\frac{3}{4}"), ("\\text{ yes }", "yes"), ("12,345", "12345")],
)
def test_normalize_answer(raw, normalized):
    assert normalize_answer(raw) == normalized


def test_exact_matches_skip_math_verify():
    reset_equivalence_stats()
    assert is_equivalent("17", "17") and not is_equivalent("17", "18")
    assert is_equivalent("-3/4", r"-\frac{3}{4}") and is_equivalent("0.75", r"\dfrac{3}{4}")
    assert not is_equivalent("1/3", "0.333")  # exact values, no rounding
    stats = equivalence_stats()
    assert stats["fast_path"] == 5 and stats.get("math_verify", 0) == 0


HANGING = r"9^{9^{9^{9}}}"  # math-verify evaluates this tower and never returns


def test_hang_is_cut_by_hard_timeout_and_counted():
    is_equivalent("1", "1/1")  # start a worker outside the measured time
    reset_equivalence_stats()
    started = time.perf_counter()
    assert is_equivalent(HANGING, "2", timeout_s=1.0) is False
    assert time.perf_counter() - started < 1.0 + 10.0  # the budget, plus slack for a loaded machine
    assert equivalence_stats()["timeouts"] == 1
    assert is_equivalent("1/3", r"\frac{1}{3}")  # the pool recovers


def test_hard_timeout_works_off_the_main_thread():
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(is_equivalent, HANGING, str(k), 1.0) for k in range(3)]
        futures += [pool.submit(is_equivalent, "0.25", r"\frac{1}{4}") for _ in range(5)]
        results = [future.result(timeout=120) for future in futures]
    assert results == [False] * 3 + [True] * 5


def _compare_in_child(pair):
    return is_equivalent(*pair)


def test_works_in_a_subprocess_pool():
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_compare_in_child, [("0.5", "1/2"), ("2", "3"), (HANGING, "1")], timeout=120))
    assert results == [True, False, False]
