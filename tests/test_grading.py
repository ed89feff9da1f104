"""Graders: regression tables for math, option letters and BBEH, and the self-check on the real files."""

import json
import sys

import pytest

from recipe.rzero.evaluation.datasets import BENCHMARKS, EvalItem
from recipe.rzero.evaluation.grading import bbeh_match, bbeh_prediction, choice_letter, grade
from tests.helpers import run_script


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


def test_self_check_on_the_full_local_files(benchmark_dir, tmp_path):
    run_script(sys.executable, "evaluate_self_check.py",
               "--data-dir", benchmark_dir, "--output-dir", tmp_path)  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    for name, spec in BENCHMARKS.items():
        assert summary["details"][name]["items"] > 0
        if spec.kind == "math":
            assert summary["benchmarks"][name] >= 99.0, name
        ungraded = (tmp_path / name / "ungraded.jsonl").read_text().splitlines()
        assert len(ungraded) == round(summary["details"][name]["items"] * (1 - summary["details"][name]["accuracy"]))


def test_averages_over_a_subset_are_marked_partial(benchmark_dir, tmp_path):
    run_script(sys.executable, "evaluate_self_check.py", "--data-dir", benchmark_dir, "--output-dir", tmp_path,
               "--benchmarks", "gsm8k", "math500")  # fmt: skip
    assert "| **math average (partial: 2 of 7)** |" in (tmp_path / "results.md").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["math_average_complete"] is False and "overall_average" not in summary
