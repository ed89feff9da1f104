"""Graders: regression tables for math, option letters and BBEH, and the self-check on the real files."""

import json
import sys

import pytest

from recipe.rzero.evaluation.datasets import BENCHMARKS, EvalItem
from recipe.rzero.evaluation.grading import bbeh_match, bbeh_prediction, choice_letter, grade
from tests.helpers import run_script


@pytest.mark.parametrize(
    ("response", "letter"),
    [
        ("... so the answer is \\boxed{C}.", "C"),
        ("\\boxed{(B)}", "B"),
        ("\\boxed{\\text{D}}", "D"),
        ("\\boxed{A. Amino acids}", "A"),
        ("Therefore, the answer is (E).", "E"),
        ("The answer is **G**", "G"),
        ("first the answer is (A), no wait, the answer is (B)", "B"),  # the last statement counts
        ("I am not sure.", None),  # unparseable: wrong, never a random guess
        ("\\boxed{42}", None),
        ("", None),
    ],
)
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
