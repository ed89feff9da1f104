"""Graders: regression tables for math, option letters, BBEH and the code benchmarks (run in the real
sandbox), and the self-check on the real files."""

import json
import sys

import pytest

from recipe.rzero.evaluation.datasets import BENCHMARKS, EvalItem, FunctionTests
from recipe.rzero.evaluation.grading import (
    bbeh_match,
    bbeh_prediction,
    choice_letter,
    grade,
    grade_humaneval,
    grade_input_prediction,
    grade_output_prediction,
)
from rzero_rewards.code import CodeTask
from tests.helpers import run_command

# Issue 12, kind 2: option letters in the formats models write. Priority: the last box holding an option,
# then the last answer statement that names a letter; never a guess.
CHOICE_CASES = [
    # (response, letter)
    ("... so the answer is \\boxed{C}.", "C"),
    ("\\boxed{(B)}", "B"),
    ("\\boxed{\\text{D}}", "D"),
    ("\\boxed{\\textbf{(D)}}", "D"),
    ("\\boxed{A. Amino acids}", "A"),
    ("\\boxed{C) 5 m/s}", "C"),
    ("\\boxed{\\text{(C) } 5 \\text{ m/s}}", "C"),
    ("\\boxed{Option H}", "H"),
    ("$\\boxed{J}$", "J"),
    ("\\fbox{E}", "E"),
    ("\\boxed{F = ma}, so ... Therefore the answer is (B).", "B"),  # a formula in the box is not an option
    ("\\boxed{E = mc^2} gives 3 J, i.e. \\boxed{D}", "D"),
    ("The answer is \\boxed{B}. (Not \\boxed{F = ma}.)", "B"),  # the last box holding an option
    ("Therefore, the answer is (E).", "E"),
    ("The answer is **G**", "G"),
    ("The answer is G.", "G"),
    ("the answer is: (A)", "A"),
    ("Weighing the options, the answer is a clear (C).", "C"),  # the article "a" is not option A
    ("So the answer is most likely (D) since the rest fail.", "D"),
    ("The correct answer is option C.", "C"),
    ("The correct option is (F).", "F"),
    ("The answer is I.", "I"),
    ("the answer is I think (C)", "C"),  # the pronoun is not option I
    ("Let me think step by step.\n...\nAnswer: J", "J"),  # the official MMLU-Pro / SuperGPQA format
    ("**Answer:** G", "G"),
    ("ANSWER: B", "B"),
    ("Final Answer: (H)", "H"),
    ("Answer:\n\n(D)", "D"),  # the letter on the next line
    ("The answer is $\\text{(B)}$.", "B"),
    ("first the answer is (A), no wait, the answer is (B)", "B"),  # the last statement counts
    ("The answer is (B). The answer is unclear to some, though.", "B"),  # the last statement *naming a letter*
    ("Among the options, (D) is the correct answer.", "D"),
    ("Option C is correct.", "C"),
    ("**B** is the best choice here.", "B"),
    ("The answer is (A)... on reflection, (E) is the right answer.", "E"),  # the last statement
    ("(A) is the answer I first thought, but the answer is (B).", "B"),
    ("Answer: **C. Amino acids**", "C"),
    ("Correct option: B", "B"),
    ("So the answer is $\\text{(D) } 14$", "D"),
    ("the correct answer is: **(C) 14 m/s**", "C"),
    ("My final answer: C", "C"),
    ("The answer should be B.", "B"),
    ("The answer is:\n\n\\[\n\\boxed{C}\n\\]", "C"),
    ("I am not sure.", None),  # unparseable: wrong, never a random guess
    ("\\boxed{42}", None),
    ("\\boxed{F = ma}", None),
    ("A is tempting, but B is wrong too.", None),  # no answer statement
    ("The answer is unclear.", None),
    ("", None),
]


@pytest.mark.parametrize(("response", "letter"), CHOICE_CASES)
def test_choice_letters(response, letter):
    assert choice_letter(response) == letter


@pytest.mark.parametrize(
    ("response", "target", "correct"),
    [
        ("The answer is: pen", "pen", True),
        ("... \\boxed{Pen}", "pen", True),  # case-insensitive
        ("The answer is (B).", "(B)", True),
        ("The answer is: B", "(B)", True),  # (a) vs a
        ("The answer is: 6.0", "6", True),  # numbers
        ("The answer is: D, A, A", "D, A, A", True),  # ", " vs ","
        ("The answer is: [Dan, Kyle]", "Dan, Kyle", True),  # brackets
        ("The answer is: yes?", "yes", True),
        ("The answer is: no", "yes", False),
        ("", "yes", False),
    ],
)
def test_bbeh_rules(response, target, correct):
    assert bbeh_match(bbeh_prediction(response), target) is correct


# Issue 12, kind 4: one box per solution. A list gold is matched by the last boxes together (in evaluation).
MULTI_BOX_CASES = [
    # (response, golds, correct, extracted)
    ("The roots are \\boxed{-4} and \\boxed{6}.", ["-4, 6"], True, "-4, 6"),
    ("The roots are \\boxed{6} and \\boxed{-4}.", ["-4, 6"], True, "6, -4"),  # math-verify: lists are sets
    ("So $x = \\boxed{-4}$ or $x = \\boxed{6}$.", ["-4,6"], True, "-4, 6"),
    ("\\boxed{1}, \\boxed{2}, \\boxed{3}", ["1, 2, 3"], True, "1, 2, 3"),
    ("Try \\boxed{7} first; the roots are \\boxed{1} and \\boxed{2}.", ["1, 2"], True, "1, 2"),  # the last two
    ("\\boxed{\\frac{1}{2}} and \\boxed{-\\sqrt{3}}", ["-\\sqrt{3}, \\frac12"], True, "\\frac{1}{2}, -\\sqrt{3}"),
    ("\\boxed{(1, 2)} and \\boxed{(3, 4)}", ["(1, 2), (3, 4)"], True, "(1, 2), (3, 4)"),
    ("The roots are \\boxed{-4, 6}.", ["-4, 6"], True, "-4, 6"),  # one box holding the list
    ("The roots are \\boxed{-4} and \\boxed{5}.", ["-4, 6"], False, "5"),
    ("The root is \\boxed{6}.", ["-4, 6"], False, "6"),  # one item of two is not the list
    ("\\boxed{1} and \\boxed{2}", ["(1, 2)"], False, "2"),  # a point is one item, not a list
    ("\\boxed{1} and \\boxed{250}", ["1,250"], False, "250"),  # thousands, not a list
    ("\\boxed{3} and \\boxed{3}", ["3"], True, "3"),  # not a list gold: the last box as always
]


@pytest.mark.parametrize(("response", "golds", "correct", "extracted"), MULTI_BOX_CASES)
def test_list_answers_boxed_one_item_per_box(response, golds, correct, extracted):
    result = grade(item("math", golds), response)
    assert result.correct is correct and result.extracted == extracted


def item(kind, answers):
    return EvalItem(benchmark={"math": "gsm8k", "choice": "mmlu_pro", "bbeh": "bbeh"}[kind], id="0", question="q",
                    answers=tuple(answers), kind=kind)  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "answers", "response", "correct", "unparsed"),
    [
        ("math", ["18"], "She makes \\boxed{18} dollars.", True, False),
        ("math", ["\\frac{1}{2}"], "\\boxed{0.5}", True, False),
        ("math", ["9.6", "9.60"], "\\boxed{9.60}", True, False),  # any accepted answer
        ("math", ["18"], "She makes 18 dollars.", False, True),  # no box: unparsed and wrong
        ("math", ["18"], "", False, True),  # an empty response
        ("choice", ["C"], "\\boxed{C}", True, False),
        ("choice", ["C"], "", False, True),
        ("bbeh", ["pen"], "", False, True),
    ],
)
def test_grade(kind, answers, response, correct, unparsed):
    result = grade(item(kind, answers), response)
    assert result.correct is correct and result.unparsed is unparsed


@pytest.mark.parametrize(
    ("kind", "answers", "response", "correct", "extracted"),
    [
        ("math", ["18"], "She makes 18 dollars.", True, "18"),
        ("math", ["1250"], "In total 1,250.", True, "1250"),
        ("math", ["18"], "First 18, then \\boxed{20}.", False, "20"),  # a box still wins
        ("math", ["18"], "No number here.", False, None),
        ("choice", ["C"], "It is 3.", False, None),  # the fallback is for math only
    ],
)
def test_grade_with_the_last_number_fallback(kind, answers, response, correct, extracted):
    result = grade(item(kind, answers), response, last_number_fallback=True)
    assert result.correct is correct and result.extracted == extracted


# CRUXEval-O: (response, extracted, correct). f(s) = s + s[::-1]; the task's output field is wrong on
# purpose ('zzz'): the prediction is compared with what f('ab') returns when run, 'abba'.
MIRROR = CodeTask("def f(s):\n    return s + s[::-1]", "'ab'", "'zzz'")
OUTPUT_PREDICTION_CASES = [
    ("[THOUGHT]\ns, then s reversed.\n[/THOUGHT]\n[ANSWER]\nassert f('ab') == 'abba'\n", "'abba'", True),  # stopped
    ("[ANSWER]\nassert f(\"ab\") == \"abba\"\n[/ANSWER]\nDone.", "'abba'", True),  # another spelling, a closed tag
    ("[ANSWER]\n```python\nassert f('ab') == 'abba'\n```\n[/ANSWER]", "'abba'", True),  # fences in the answer
    ("[ANSWER]\n'abba'\n[/ANSWER]", "'abba'", True),  # the bare literal
    ("[ANSWER]\nassert 'abba' == f('ab')\n[/ANSWER]", "'abba'", True),  # either order
    ("So the result is\nassert f('ab') == 'abba'", "'abba'", True),  # no tags: the last line, as officially
    ("[ANSWER]\nassert f('ab') == 'zzz'\n[/ANSWER]", "'zzz'", False),  # the output field is not the judge
    ("[ANSWER]\nassert f('ab') == 'abab'\n[/ANSWER]", "'abab'", False),
    ("[ANSWER]\nassert f('ab') == 'ab' + 'ba'\n[/ANSWER]", "'ab' + 'ba'", False),  # an expression, not a literal
    ("[ANSWER]\nassert f('ab') == f('ab')\n[/ANSWER]", "f('ab')", False),  # a call is not a prediction
    ("[ANSWER]\nassert f('ab') == 'abba\n[/ANSWER]", None, False),  # does not parse: unparsed
    ("[ANSWER]\nassert f('ab') == 'abba' == 'abba'\n[/ANSWER]", None, False),  # not one comparison
    ("[ANSWER]\nassert f('ab') == 'abba'\nassert f('ab') == 'x'\n[/ANSWER]", "'abba'", True),  # the first statement
    ("[ANSWER]\n" + "-" * 100000 + "1\n[/ANSWER]", None, False),  # too deep to parse: unparsed, no crash
    ("[ANSWER]\nassert f('ab') == " + "-" * 900 + "1", None, False),  # parses, too deep to rebuild
    ("", None, False),
]


@pytest.mark.parametrize(("response", "extracted", "correct"), OUTPUT_PREDICTION_CASES)
def test_output_prediction(response, extracted, correct):
    result = grade_output_prediction(response, MIRROR)
    assert (result.extracted, result.correct) == (extracted, correct)


@pytest.mark.parametrize(
    ("task", "response", "correct"),
    [
        (CodeTask("def f(n):\n    return [n, n * 2]", "3", "[3, 6]"), "[ANSWER]\nassert f(3) == [3,6]", True),
        (CodeTask("def f(n):\n    return [n, n * 2]", "3", "[3, 6]"), "[ANSWER]\nassert f(3) == [3.0, 6.0]", True),
        (CodeTask("def f(n):\n    return [n, n * 2]", "3", "[3, 6]"), "[ANSWER]\nassert f(3) == (3, 6)", False),
        (CodeTask("def f(s):\n    return s + '=='", "'a'", "'a=='"), "[ANSWER]\nassert f('a') == 'a=='", True),
        (CodeTask("def f(d):\n    return dict(d)", "dict(a=1)", "{'a': 1}"), "[ANSWER]\n{'a': 1}", True),  # input code
    ],
)
def test_output_prediction_compares_values(task, response, correct):
    assert grade_output_prediction(response, task).correct is correct


# CRUXEval-I: (response, extracted, correct). f(a, b) = a * b must return 12; any such input is right.
PRODUCT = CodeTask("def f(a, b):\n    return a * b", "3, 4", "12")
INPUT_PREDICTION_CASES = [
    ("[THOUGHT]\n3 times 4.\n[/THOUGHT]\n[ANSWER]\nassert f(3, 4) == 12\n", "f(3, 4)", True),
    ("[ANSWER]\nassert f(2, 6) == 12\n[/ANSWER]", "f(2, 6)", True),  # another input
    ("[ANSWER]\nassert f(b=4, a=3) == 12", "f(b=4, a=3)", True),
    ("[ANSWER]\nassert f(*[6, 2]) == 12", "f(*[6, 2])", True),
    ("[ANSWER]\nassert f(1 + 2, 4) == 12", "f(1 + 2, 4)", True),  # expressions, as in the official harness
    ("[ANSWER]\nassert 12 == f(4, 3)", "f(4, 3)", True),
    ("[ANSWER]\nf(6, 2)\n[/ANSWER]", "f(6, 2)", True),  # the bare call
    ("[ANSWER]\nassert f(3, 4) == 13", "f(3, 4)", True),  # the given output is the target, not the answer's
    ("[ANSWER]\nassert f(3, 5) == 12", "f(3, 5)", False),
    ("[ANSWER]\nassert f('a', 12) == 12", "f('a', 12)", False),  # 'aaaa...' is not 12
    ("[ANSWER]\nassert f(3) == 12", "f(3)", False),  # a TypeError
    ("[ANSWER]\nassert f(__import__('os').getpid(), 1) == 12", "f(__import__('os').getpid(), 1)", False),  # rejected
    ("[ANSWER]\nassert f(3, 4) == 12 or True", None, False),  # not an assertion of equality
    ("[ANSWER]\nassert f(3, 4)) == 12", None, False),  # does not parse
    ("[ANSWER]\nassert g(3, 4) == 12", None, False),  # no call of f
    ("I do not know.", None, False),
]


@pytest.mark.parametrize(("response", "extracted", "correct"), INPUT_PREDICTION_CASES)
def test_input_prediction(response, extracted, correct):
    result = grade_input_prediction(response, PRODUCT)
    assert (result.extracted, result.correct) == (extracted, correct)


# HumanEval: (response, correct); the problem's prompt and tests as HumanEval writes them.
ADD = FunctionTests(
    'def add(a: int, b: int) -> int:\n    """Add two numbers.\n    >>> add(2, 3)\n    5\n    """\n',
    "add",
    "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
)
HUMANEVAL_CASES = [
    ("```python\ndef add(a, b):\n    return a + b\n```", True),
    ("Sure!\n```python\nimport math\n\n\ndef add(a, b):\n    return int(math.fsum([a, b]))\n```\n", True),
    ("    return a + b\n", True),  # no fence: the response completes the prompt's function
    ("```python\ndef add(a, b):\n    return a + b\n", True),  # cut off before the closing fence
    ("```python\ndef add(a, b):\n    return a - b\n```\nFixed:\n```python\ndef add(a, b):\n    return a + b\n```\n"
     "Usage:\n```python\nprint(add(2, 3))\n```", True),  # the last block that defines the function
    ("```python\ndef add(a, b):\n    return eval(f'{a} + {b}')\n```", True),  # eval, as HumanEval/160's solution
    ("```python\nimport statistics\n\ndef add(a, b):\n    return round(2 * statistics.fmean([a, b]))\n```", True),
    ("```python\ndef add(a, b):\n    return a * b\n```", False),  # fails the tests
    ("```python\ndef add(a, b):\n    return a + b\n\nif __name__ == '__main__':\n    import doctest\n"
     "    doctest.testmod()\nprint(add(2, 3))\nassert add(1, 1) == 3\n```", True),  # dropped, as in EvalPlus
    ("```python\nfrom typing import List\nOFFSET = 0\n\n@staticmethod\ndef helper(a):\n    return a + OFFSET\n\n"
     "def add(a, b):\n    return helper(a) + b\n```", True),  # imports, assignments and decorated helpers stay
    ("```python\nimport os\ndef add(a, b):\n    return a + b\n```", False),  # os is not allowed
    ("I cannot solve this.", False),  # prose does not run
    ("```python\ndef add(a, b):\n    return " + "-" * 900 + "a + b\n```", False),  # too deep to rebuild: no crash
    ("```python\ndef add(a, b):\n    return " + "-" * 5000 + "a + b\n```", False),  # too deep to parse
]


@pytest.mark.parametrize(("response", "correct"), HUMANEVAL_CASES)
def test_humaneval(response, correct):
    assert grade_humaneval(response, ADD).correct is correct


def test_humaneval_empty_response_is_unparsed():
    result = grade_humaneval("", ADD)
    assert (result.extracted, result.correct) == (None, False)


def test_self_check_on_the_full_local_files(benchmark_dir, tmp_path):
    run_command(sys.executable, "self-check",
               "--data-dir", benchmark_dir, "--output-dir", tmp_path)  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["code_average"] == 100.0
    for name, spec in BENCHMARKS.items():
        assert summary["details"][name]["items"] > 0
        if spec.kind == "math":
            assert summary["benchmarks"][name] >= 99.0, name
        if spec.group == "code":  # the references run in the sandbox: every one must pass
            assert summary["benchmarks"][name] == 100.0, name
        ungraded = (tmp_path / name / "ungraded.jsonl").read_text().splitlines()
        assert len(ungraded) == round(summary["details"][name]["items"] * (1 - summary["details"][name]["accuracy"]))


def test_averages_over_a_subset_are_marked_partial(benchmark_dir, tmp_path):
    run_command(sys.executable, "self-check", "--data-dir", benchmark_dir, "--output-dir", tmp_path,
               "--benchmarks", "gsm8k", "math500")  # fmt: skip
    assert "| **math average (partial: 2 of 7)** |" in (tmp_path / "results.md").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["math_average_complete"] is False and "overall_average" not in summary


def test_self_check_names_a_code_reference_that_does_not_pass(benchmark_dir, tmp_path):
    rows = [json.loads(line) for line in (benchmark_dir / "cruxeval.jsonl").read_text().splitlines()[:3]]
    rows[1]["output"] = "'not what f returns'"
    (tmp_path / "cruxeval.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = run_command(sys.executable, "self-check", "--data-dir", tmp_path, "--output-dir",
                        tmp_path / "out", "--benchmarks", "cruxeval_o", "cruxeval_i", check=False)  # fmt: skip
    assert result.returncode == 1
    assert "cruxeval_o: ids sample_1; cruxeval_i: ids sample_1" in result.stderr
    assert "| **code average (partial: 2 of 3)** | | | 66.67 | |" in (tmp_path / "out" / "results.md").read_text()
