"""Answer equivalence: regression tables per kind of answer, exact rationals, hard timeouts from threads
and processes."""

import concurrent.futures
import os
import signal
import time

import pytest

from rzero_rewards import equivalence, equivalence_stats, is_equivalent, normalize_answer, reset_equivalence_stats

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

# Issue 12, kind 1: currency, percent, degree signs and units around numbers. Percent follows MATH's
# and Qwen2.5-Math's graders: the sign is dropped, so 35% is 35 (and not 0.35).
DECORATED_NUMBER_CASES = [
    # (answer, reference, expected)
    (r"\$18", "18", True),
    ("18", r"\$18", True),
    (r"\$18", r"\$20", False),
    ("$18", "18", True),
    (r"\$1,250", "1250", True),
    (r"\$ 1,250.00", "1250", True),
    (r"\$32,\!348", "32348", True),  # MATH-500's spelling of thousands
    (r"32,\!348", r"\$32,\!348", True),
    (r"\$18.50", "18.5", True),
    (r"\text{\$}18", "18", True),
    ("€18", "18", True),
    ("£7.50", r"\frac{15}{2}", True),
    ("¥300", "300", True),
    (r"\pounds 12", "12", True),
    ("USD 18", "18", True),
    ("Rs. 500", "500", True),
    (r"-\$5", "-5", True),
    (r"35\%", "35", True),
    ("35%", "35", True),
    ("35", r"35\%", True),
    (r"35\%", "0.35", False),  # the sign is dropped, never read as a hundredth
    (r"12.5\%", r"\frac{25}{2}", True),
    ("35 percent", "35", True),
    (r"35\text{ percent}", "35", True),
    (r"35\text{\%}", "35", True),
    (r"36\%", "35", False),
    (r"90^\circ", "90", True),
    (r"90^{\circ}", "90", True),
    ("90°", "90", True),
    (r"45^\circ", "90", False),
    (r"18\text{ dollars}", "18", True),
    ("18 dollars", "18", True),
    (r"5\,\mathrm{cm}^2", "5", True),
    (r"5 \text{ cm}^{2}", "5", True),
    ("2 square feet", "2", True),
    (r"\frac{1}{2}\text{ cup}", "0.5", True),
    (r"3\mbox{ apples}", "3", True),
    ("7 days", "8", False),
    # Words that are values, not units: magnitudes, functions, operators, variables.
    ("10 million", "10", False),
    ("3 billion", "3", False),
    ("2 thousand", "2", False),
    ("2 log x", "2", False),
    ("3 cos x", "3", False),
    ("2 sin theta", "2", False),
    ("5 and x", "5", False),
    ("2 times x", "2", False),
    ("4 times", "4", True),
    ("18 dollars a week", "18", True),
    (r"1,250 \text{ dollars}", r"\$1,250", True),
    (r"\$18 \text{ per hour}", "18", True),
    ("x = 5 cm", "5", True),  # an equation with a unit: math-verify's own unit handling
    (r"\text{\$18}", "18", True),
    (r"\textbf{\$18}", "18", True),
    (r"\mathbf{18}", "18", True),
    (r"1{,}000", "1000", True),
    (r"\$18\text{.}", "18", True),
    ("18 USD", "18", True),
    ("18.90 dollars", r"\$18.90", True),
    (r"5.4 \text{ cents}", "5.4", True),  # MATH-500 golds
    ("864 square inches", r"864 \mbox{ inches}^2", True),
    (r"\frac{270}{7}^\circ", r"\frac{270}7\text{ degrees}", True),
    ("145 degrees", r"145^\circ", True),
    ("-5°C", "-5", True),
    (r"20^\circ\text{F}", "20", True),
    (r"20^{\circ} C", "20", True),
    (r"90\degree", "90", True),
    (r"\text{18 dollars}", "18", True),
    ("35 per cent", "35", True),
    (r"5 \text{ m/s}", "5", True),
    (r"18\$", "18", True),
    (r"145 ^ \circ", "145", True),
    (r"\$ 32,348", r"\$32,\!348", True),
    ("11111111100", r"11,\! 111,\! 111,\! 100", True),
    ("−4", "-4", True),  # unicode minus
    ("3×10^{8}", "300000000", True),
    (r"-\$5", r"\$-5", True),
    # Constants are not units: what follows a number stays when it is e, i, pi or a root.
    ("2 pi", "2", False),
    (r"2\pi", "2", False),
    ("3 + 4 i", "7", False),
    (r"3 + 4\mathrm{i}", "7", False),
    (r"2\mathrm{e}", "2", False),
    (r"90^\circ", r"\frac{\pi}{2}", False),  # the degree sign is dropped, not converted
]

# Issue 12, kind 5: exact rationals are compared exactly (math-verify's tolerance would equate these).
EXACT_RATIONAL_CASES = [
    (r"\frac{1}{5^{30}}", r"\frac{1}{5^{31}}", False),
    (r"\frac{1}{5^{30}}", r"5^{-30}", True),
    (r"10^{-30}", "0", False),
    (r"10^{-12}", r"10^{-13}", False),
    ("0.000000001", "0.000000002", False),
    ("0.000000001", r"10^{-9}", True),
    (r"1.0\times10^{-30}", r"10^{-30}", True),
    (r"3\cdot 10^{-7}", "0.0000003", True),
    ("1e-20", r"10^{-20}", True),
    ("1e-20", "1.0000001e-20", False),
    (r"\frac{1}{3}", "0.333333333", False),
    ("1/3", "0.333", False),
    ("123456789123456789", "123456789123456788", False),
    (r"2^{64}", "18446744073709551616", True),
    (r"2^{64}", "18446744073709551615", False),
    ("5!", "120", True),
    ("20!", "2432902008176640000", True),
    (r"\frac{7}{2}", "3.5", True),
    (r"-\frac{3}{4}", "-0.75", True),
    (r"(-2)^3", "-8", True),
    ("-2^2", "-4", True),
    (r"\frac{2}{4}", r"\frac{1}{2}", True),
    (r"1\div 4", "0.25", True),
    (r"\frac{1}{0}", r"\frac{1}{0}", True),  # the same spelling, whatever it means
    (r"\frac{1}{0}", "1", False),
]


@pytest.mark.parametrize(("answer", "reference", "expected"), EQUIVALENCE_CASES)
def test_is_equivalent(answer, reference, expected):
    assert is_equivalent(answer, reference) is expected


@pytest.mark.parametrize(("answer", "reference", "expected"), DECORATED_NUMBER_CASES)
def test_currency_percent_and_units_around_numbers(answer, reference, expected):
    assert is_equivalent(answer, reference) is expected


@pytest.mark.parametrize(("answer", "reference", "expected"), EXACT_RATIONAL_CASES)
def test_exact_rationals_are_compared_exactly(answer, reference, expected):
    assert is_equivalent(answer, reference) is expected


def test_exact_rationals_skip_math_verify():
    reset_equivalence_stats()
    for answer, reference, _ in EXACT_RATIONAL_CASES:
        is_equivalent(answer, reference)
    assert equivalence_stats().get("math_verify", 0) == 0


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        (" $\\left( 1,2 \\right)$ ", "(1,2)"),
        ("\\dfrac{3}{4}.", "\\frac{3}{4}"),
        ("\\text{ yes }", "yes"),
        ("12,345", "12345"),
        ("-4, 6", "-4, 6"),  # a list: the comma and space stay
        ("1, 250", "1, 250"),
        ("$-4,\\ 6$", "-4,6"),
        ("f \\circ g", "f\\circg"),  # composition, not a degree sign
    ],
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


HANGING = r"\sqrt{9}^{\sqrt{9}^{\sqrt{9}^{9}}}"  # parsed at once; verify evaluates the tower forever
SLOW_TO_PARSE = "x" * 20_000  # math-verify takes about 6 s to parse it


def test_hang_is_cut_by_hard_timeout_and_counted():
    is_equivalent("1", "1/1")  # start a worker outside the measured time
    reset_equivalence_stats()
    started = time.perf_counter()
    assert is_equivalent(HANGING, "2", timeout_s=1.0) is False
    assert time.perf_counter() - started < 1.0 + 10.0  # the budget, plus slack for a loaded machine
    assert equivalence_stats()["timeouts"] == 1
    assert is_equivalent("1/3", r"\frac{1}{3}")  # the pool recovers


def test_an_answer_whose_parse_timed_out_fails_later_comparisons_at_once():
    is_equivalent("1", "1/1")
    reset_equivalence_stats()
    assert is_equivalent(SLOW_TO_PARSE, "y", timeout_s=1.0) is False
    started = time.perf_counter()
    assert not any(is_equivalent(SLOW_TO_PARSE, f"y^{{{k}}}", timeout_s=1.0) for k in range(2, 20))
    assert not is_equivalent("z", SLOW_TO_PARSE, timeout_s=1.0)  # on the gold side too
    assert time.perf_counter() - started < 1.0  # no comparison waited for the budget
    stats = equivalence_stats()
    assert stats["timeouts"] == 20 and stats["math_verify"] == 1
    # The other side of the timed-out pair is innocent: its comparisons keep their verdicts.
    assert is_equivalent("y", "y") and is_equivalent("2y", "y + y")


@pytest.mark.parametrize(
    "huge",
    [r"9^{9^{9^{9}}}", r"10^{10^{10^{10}}}!", r"2^{10^{9}}", "1e999999999", r"(10^{10^{6}})!",
     r"\sqrt{9^{9^{9^{9}}}}", r"x + 2^{10^{10}}", r"\frac{\pi}{7^{7^{7^{7}}}}"],
)  # fmt: skip
def test_values_too_large_to_compute_equal_only_their_own_spelling(huge):
    reset_equivalence_stats()
    started = time.perf_counter()
    assert is_equivalent(huge, huge) and not is_equivalent(huge, "2") and not is_equivalent("1/2", huge)
    assert time.perf_counter() - started < 1.0
    stats = equivalence_stats()
    assert stats["too_large"] == 2 and stats.get("math_verify", 0) == 0


def test_hard_timeout_works_off_the_main_thread():
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(is_equivalent, HANGING, str(k), 1.0) for k in range(3)]
        futures += [pool.submit(is_equivalent, "0.25", r"\frac{1}{4}") for _ in range(5)]
        results = [future.result(timeout=120) for future in futures]
    assert results == [False] * 3 + [True] * 5


def test_a_worker_that_died_idle_is_replaced_and_no_side_is_blamed():
    # Every worker is taken, so the comparison waits for the next one released; that one was
    # killed (as by the OOM killer) while queued. The request must go to a live worker.
    pool = equivalence._pool
    taken = [pool._acquire() for _ in range(pool.max_workers)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        reset_equivalence_stats()
        verdict = thread.submit(is_equivalent, r"\frac{\sqrt{3}}{3}", r"\sqrt{3}/3")
        time.sleep(0.5)  # it waits for a worker
        os.kill(taken[0].process.pid, signal.SIGKILL)
        taken[0].process.wait()
        pool._idle.put(taken[0])  # queued by `_release` just before it died
        assert verdict.result(timeout=120) is True
    for worker in taken[1:]:
        pool._release(worker)
    assert equivalence_stats()["math_verify"] == 1
    assert {r"\frac{\sqrt{3}}{3}", r"\sqrt{3}/3"}.isdisjoint(equivalence._slow_to_parse)


def _compare_in_child(pair):
    return is_equivalent(*pair)


def test_works_in_a_subprocess_pool():
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_compare_in_child, [("0.5", "1/2"), ("2", "3"), (HANGING, "1")], timeout=120))
    assert results == [True, False, False]
