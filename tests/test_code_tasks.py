"""AZR's code tasks (issue 13): validation, deduction / abduction / induction checks, rewards and
prompts, as regression tables with hand-computed values; programs run in the real sandbox."""

from __future__ import annotations

import pytest

from rzero_rewards.code import (
    ALLOWED_IMPORTS,
    CodeTask,
    InductionTask,
    Limits,
    Validation,
    check_abductions,
    check_answers,
    check_deduction,
    check_inductions,
    extract_blocks,
    format_aware_reward,
    induction_proposer_prompt,
    learnability_reward,
    make_induction_tasks,
    parse_induction_proposal,
    parse_proposal,
    parse_solver_answer,
    proposer_example,
    proposer_prompt,
    solve_reward,
    solver_example,
    solver_prompt,
    validate_tasks,
)
from rzero_rewards.code.prompts import SOLVER_EXAMPLE_TASK

FAST = Limits(timeout_s=2.0)
SUM_DIGITS = "def f(n):\n    return sum(int(d) for d in str(n))"

# (program, input, expected output or None, words in the reason when invalid)
VALIDATION_CASES = [
    (SUM_DIGITS, "1234", "10", ""),
    ("def f(s, k):\n    return s[k:] + s[:k]", "'abcde', 2", "'cdeab'", ""),
    ("def f(xs):\n    return {x: xs.count(x) for x in xs}", "[1, 1, 2]", "{1: 2, 2: 1}", ""),
    ("def f(a):\n    return a / 0", "1", None, "error: ZeroDivisionError"),
    ("import random\ndef f(a):\n    return random.random()", "1", None, "rejected: imports 'random'"),
    ("def f(a):\n    while True:\n        pass", "1", None, "timeout"),
    ("def f(a):\n    return object()", "1", None, "not_literal"),
    ("def f(a):\n    return a", "os.getcwd()", None, "bad_input"),
    ("def f(a:\n    return a", "1", None, "rejected: does not parse"),
    # set order depends on string hashes; sorted, the output is the same everywhere
    ("def f(a):\n    return sorted({'b', 'a', a})", "'c'", "['a', 'b', 'c']", ""),
]


@pytest.mark.parametrize(("program", "arguments", "output", "reason"), VALIDATION_CASES)
def test_validation(program, arguments, output, reason):
    (validation,) = validate_tasks([(program, arguments)], limits=FAST)
    if output is None:
        assert validation.task is None and validation.reason.startswith(reason), validation
    else:
        assert validation.task == CodeTask(program, arguments, output) and validation.reason == ""


def test_nondeterministic_program_is_invalid():
    # Each run gets a new throw-away directory with a random name: a program that returns it is not
    # deterministic (it needs `os`, so only a caller that allows it gets this far).
    program = "import os\ndef f(a):\n    return os.getcwd()"
    assert validate_tasks([(program, "1")], limits=FAST)[0].reason.startswith("rejected")
    (validation,) = validate_tasks([(program, "1")], limits=FAST, allowed_imports=ALLOWED_IMPORTS | {"os"})
    assert validation.task is None and validation.reason.startswith("not deterministic")


TASK = CodeTask(SUM_DIGITS, "1234", "10")
PAIR_TASK = CodeTask("def f(a, b):\n    return (a + b, a * b)", "2, 3", "(5, 6)")

# (task, predicted output, correct?)
DEDUCTION_CASES = [
    (TASK, "10", True),
    (TASK, " 10 ", True),
    (TASK, "10.0", True),  # equal values: 10 == 10.0 in Python, as AZR compares
    (TASK, "'10'", False),  # a string is not the number
    (TASK, "11", False),
    (TASK, "ten", False),  # not a literal
    (TASK, None, False),
    (PAIR_TASK, "(5, 6)", True),
    (PAIR_TASK, "(5,6)", True),
    (PAIR_TASK, "[5, 6]", False),  # a list is not a tuple
    (PAIR_TASK, "5, 6", True),  # the same tuple without parentheses
]


@pytest.mark.parametrize(("task", "predicted", "correct"), DEDUCTION_CASES)
def test_deduction(task, predicted, correct):
    assert check_deduction(task, predicted) is correct


# (task, predicted input, correct?): any input with the same output is right.
ABDUCTION_CASES = [
    (TASK, "1234", True),
    (TASK, "4321", True),
    (TASK, "55", True),
    (TASK, "1111111111", True),
    (TASK, "12", False),
    (TASK, "'1234'", True),  # str(n) of a string is the string itself: also sums to 10
    (TASK, "[1, 2]", False),  # runs into a ValueError
    (TASK, "__import__('os')", False),  # not a literal: never runs
    (TASK, None, False),
    (PAIR_TASK, "3, 2", True),
    (PAIR_TASK, "b=3, a=2", True),
    (PAIR_TASK, "2, 3, 4", False),  # a TypeError
]


def test_abduction():
    results = check_abductions([(task, predicted) for task, predicted, _ in ABDUCTION_CASES], limits=FAST)
    assert results == [correct for _, _, correct in ABDUCTION_CASES]


INDUCTION_PROGRAM = "def f(xs):\n    return [x * 2 for x in xs if x % 2]"


def test_make_induction_tasks():
    inputs = ["[1, 2, 3]", "[]", "[5]", "[2, 4]"]
    proposals = [
        (INDUCTION_PROGRAM, inputs, "double the odd ones"),
        (INDUCTION_PROGRAM, ["[1]", "'x'"], "fails on a string"),
        (INDUCTION_PROGRAM, ["[1]", "[1]"], "the same input twice"),
    ]
    task, failed, repeated = make_induction_tasks(proposals, limits=FAST)
    assert task == InductionTask(
        INDUCTION_PROGRAM, (("[1, 2, 3]", "[2, 6]"), ("[]", "[]")), (("[5]", "[10]"), ("[2, 4]", "[]")),
        "double the odd ones",
    )  # fmt: skip
    assert failed.task is None and failed.reason.startswith("error: TypeError")
    assert failed.reason.endswith("(input 2 of 2)")
    assert repeated == Validation(None, "fewer than two distinct inputs")


# (candidate program, correct?) for the task above: hidden pairs [5] -> [10] and [2, 4] -> [].
INDUCTION_CASES = [
    (INDUCTION_PROGRAM, True),
    ("def f(xs):\n    out = []\n    for x in xs:\n        if x & 1:\n            out.append(x + x)\n    return out",
     True),  # fmt: skip
    ("def f(xs):\n    return [x * 2 for x in xs]", False),  # right on [5], wrong on [2, 4]
    ("def f(xs):\n    return [10] if xs == [5] else []", True),  # fits the hidden pairs: AZR's check cannot tell
    ("def f(xs):\n    return (10,)", False),
    ("import os\ndef f(xs):\n    return []", False),  # rejected
    ("def g(xs):\n    return []", False),  # no f
    (None, False),
]


def test_induction():
    task = InductionTask(INDUCTION_PROGRAM, (("[1, 2, 3]", "[2, 6]"),), (("[5]", "[10]"), ("[2, 4]", "[]")), "")
    results = check_inductions([(task, candidate) for candidate, _ in INDUCTION_CASES], limits=FAST)
    assert results == [correct for _, correct in INDUCTION_CASES]


WIDER = ALLOWED_IMPORTS | {"statistics"}
MEDIAN = "import statistics\ndef f(xs):\n    return statistics.median(xs)"


def test_a_task_keeps_the_allow_list_it_was_validated_with():
    (validation,) = validate_tasks([(MEDIAN, "[3, 1, 2]")], limits=FAST, allowed_imports=WIDER)
    task = validation.task
    assert task == CodeTask(MEDIAN, "[3, 1, 2]", "2", WIDER)
    default = CodeTask(MEDIAN, "[3, 1, 2]", "2")  # validated elsewhere with the default allow-list
    assert check_abductions([(task, "[2, 9, 0]"), (task, "[1]"), (default, "[2, 9, 0]")], limits=FAST) == [
        True, False, False,  # the last: `statistics` is rejected for a default task
    ]  # fmt: skip
    (induction,) = make_induction_tasks([(MEDIAN, ["[1, 2, 3]", "[4]", "[5, 7, 9]", "[2, 2]"], "")], limits=FAST,
                                        allowed_imports=WIDER)  # fmt: skip
    assert induction.allowed_imports == WIDER and induction.hidden == (("[5, 7, 9]", "7"), ("[2, 2]", "2.0"))
    answers = [(induction, MEDIAN), (induction, "import statistics\ndef f(xs):\n    return statistics.mode(xs)")]
    assert check_inductions(answers, limits=FAST) == [True, False]  # the mode of [5, 7, 9] is 5


# ---------------------------------------------------------------------------------------------
# Rewards (AZR Eqs. 4-6): success rate over n = 8 solver samples.
@pytest.mark.parametrize(
    ("successes", "reward"),
    [(0, 0.0), (1, 0.875), (2, 0.75), (4, 0.5), (6, 0.25), (7, 0.125), (8, 0.0)],
)
def test_learnability_reward(successes, reward):
    assert learnability_reward(successes / 8) == reward


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_learnability_reward_rejects_rates_outside_the_unit_interval(rate):
    with pytest.raises(ValueError, match="success rate"):
        learnability_reward(rate)


def test_solve_reward():
    assert [solve_reward(True), solve_reward(False)] == [1.0, 0.0]


@pytest.mark.parametrize(
    ("role_reward", "well_formed", "reward"),
    [
        (1.0, True, 1.0),  # a correct solver answer
        (0.0, True, -0.5),  # a wrong but well-formed answer
        (0.0, False, -1.0),  # no answer block
        (0.625, True, 0.625),  # a valid proposal the solver sometimes solves
        (0.0, True, -0.5),  # a valid proposal solved always or never
        (1.0, False, -1.0),  # malformed wins over everything
    ],
)
def test_format_aware_reward(role_reward, well_formed, reward):
    assert format_aware_reward(role_reward, well_formed) == reward


# ---------------------------------------------------------------------------------------------
# Prompts and parsers.
PROPOSAL = f"""I will write a digit sum.
```python
{SUM_DIGITS}
```
```input
1234
```"""


def test_prompts_carry_what_each_role_needs():
    deduction = solver_prompt(TASK, "deduction")
    assert SUM_DIGITS in deduction and "1234" in deduction and "```output" in deduction and "10" not in deduction
    abduction = solver_prompt(TASK, "abduction")
    assert SUM_DIGITS in abduction and "```output\n10\n```" in abduction and "1234" not in abduction
    task = InductionTask(INDUCTION_PROGRAM, (("[1, 2, 3]", "[2, 6]"),), (("[5]", "[10]"),), "odd ones, doubled")
    induction = solver_prompt(task, "induction")
    assert "[2, 6]" in induction and "odd ones, doubled" in induction
    assert "[10]" not in induction and INDUCTION_PROGRAM not in induction
    for task_type in ("deduction", "abduction"):
        proposer = proposer_prompt(task_type, [TASK])
        assert SUM_DIGITS in proposer and "```input" in proposer
        assert "import only these modules: abc, bisect" in proposer and "random," not in proposer
    assert "5 different inputs" in induction_proposer_prompt(INDUCTION_PROGRAM, 5)
    with pytest.raises(ValueError):
        proposer_prompt("induction", [])
    with pytest.raises(ValueError):
        solver_prompt(TASK, "translation")


def test_parsers():
    assert parse_proposal(PROPOSAL) == (SUM_DIGITS, "1234")
    assert parse_proposal("```python\ndef f(a):\n    return a\n```") is None  # no input
    assert parse_proposal("```python\n\n```\n```input\n1\n```") is None
    answer = "First 1+2+3+4 = 10.\n```output\n9\n```\nNo, recount:\n```output\n10\n```"
    assert parse_solver_answer(answer, "deduction") == "10"  # the last block
    assert parse_solver_answer("the answer is 10", "deduction") is None
    assert parse_solver_answer("```input\n55\n```", "abduction") == "55"
    assert parse_solver_answer(f"```python\n{SUM_DIGITS}\n```", "induction") == SUM_DIGITS
    inputs = "".join(f"```input\n[{k}]\n```\n" for k in range(3)) + "```message\nodd ones\n```"
    assert parse_induction_proposal(inputs, 3) == (["[0]", "[1]", "[2]"], "odd ones")
    assert parse_induction_proposal(inputs, 4) is None
    assert extract_blocks("```input \n1\n```", "input") == ["1"]
    assert extract_blocks("```inputs\n1\n```", "input") == []


@pytest.mark.parametrize(
    ("response", "proposal"),
    [
        (f"```py\n{SUM_DIGITS}\n```\n```input\n1234\n```", (SUM_DIGITS, "1234")),  # other names of Python
        (f"```Python3\n{SUM_DIGITS}\n```\n```input\n1234\n```", (SUM_DIGITS, "1234")),
        (f"```\n{SUM_DIGITS}\n```\n```input\n1234\n```", (SUM_DIGITS, "1234")),  # no name
        (f"Plan: digits.\n\n```python\n{SUM_DIGITS}\n```\nThe input:\n```input\n1234\n```", (SUM_DIGITS, "1234")),
        (f"```input\n1234\n```\n```python\n{SUM_DIGITS}\n```", (SUM_DIGITS, "1234")),  # either order
        (f"```output\n10\n```\n```input\n1234\n```", None),  # a closing fence opens no block
        (f"```python\n{SUM_DIGITS}\n```\n```inputs\n1234\n```", None),
        (f"```python\n{SUM_DIGITS}\n```\nInput: 1234", None),
        (f"```python\n{SUM_DIGITS}\n```\n```input\n1234", None),  # cut off inside the input block
        (f"```javascript\nfunction f(n) {{}}\n```\n```input\n1234\n```", None),
    ],
)
def test_proposal_parser_accepts_fence_variants_only(response, proposal):
    assert parse_proposal(response) == proposal


@pytest.mark.parametrize("task_type", ["deduction", "abduction"])
def test_format_examples_are_well_formed_and_verified(task_type):
    request, answer = proposer_example(task_type)
    assert request == proposer_prompt(task_type, [])
    (validation,) = validate_tasks([parse_proposal(answer)], limits=FAST)
    assert validation.task is not None
    request, answer = solver_example(task_type)
    assert request == solver_prompt(SOLVER_EXAMPLE_TASK, task_type)
    assert check_answers([(task_type, SOLVER_EXAMPLE_TASK, parse_solver_answer(answer, task_type))]) == [True]
    with pytest.raises(ValueError):
        solver_example("induction")
