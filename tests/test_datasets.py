"""Benchmark loaders on the real local files."""

import pytest

from recipe.rzero.evaluation.datasets import BENCHMARKS, load_benchmark

EXPECTED_SIZES = {
    "math500": 500, "gsm8k": 1319, "amc23": 40, "amc83": 83, "minerva": 272, "olympiadbench": 675,
    "aime24": 30, "aime25": 30, "mmlu_pro": 300, "supergpqa": 300, "bbeh": 460,
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
