"""The evaluation harness end to end with the embedded model on vLLM's CPU build (the code benchmarks
graded in the sandbox, from the infer environment)."""

import json

import pytest

from recipe.rzero.evaluation.datasets import BENCHMARKS
from tests.helpers import run_command

pytestmark = pytest.mark.vllm

SMALL = ["--max-tokens", "24", "--max-model-len", "8192", "--samples-k", "2"]


@pytest.fixture(scope="module")
def evaluation(embedded_model, infer_python, benchmark_dir, tmp_path_factory):
    """Every benchmark, 2 items each, on two engine replicas of one core each (issue 16), in chunks of
    2 samples: one chunk per greedy benchmark, one per item of the mean@k ones."""
    output = tmp_path_factory.mktemp("eval") / "base"
    args = ["--model", embedded_model, "--output-dir", output, "--data-dir", benchmark_dir, "--limit", 2, *SMALL]
    args += ["--replicas", 2, "--chunk-size", 2]
    run_command(infer_python, "evaluate", *args)
    return output, args


def test_every_benchmark_end_to_end(evaluation):
    output, _ = evaluation
    summary = json.loads((output / "summary.json").read_text())
    assert set(summary["benchmarks"]) == set(BENCHMARKS)
    for name in BENCHMARKS:
        samples = [json.loads(line) for line in (output / name / "samples.jsonl").read_text().splitlines()]
        per_item = 2 if name in ("aime24", "aime25", "amc23", "amc83") else 1  # mean@k with k = 2
        assert len(samples) == 2 * per_item
        for sample in samples:
            assert {"prompt", "response", "extracted", "gold", "correct"} <= set(sample)
        accuracy = sum(s["correct"] for s in samples) / len(samples)
        assert summary["benchmarks"][name] == pytest.approx(100 * accuracy)
    assert "math_average" in summary and "overall_average" in summary and "code_average" in summary
    assert (output / "results.md").read_text().startswith("# ")
    manifest = json.loads((output / "gsm8k" / "samples.jsonl.manifest.json").read_text())
    assert len(manifest["chunks_by_replica"]) == 2 and all(count > 0 for count in manifest["chunks_by_replica"])
    assert sum(manifest["chunks_by_replica"]) == len(BENCHMARKS) + 4  # the four mean@k sets: two chunks each
    assert not list(output.glob("*/samples.jsonl.chunks"))


def test_code_benchmarks_use_their_own_prompts(evaluation):
    output, _ = evaluation
    openings = {"cruxeval_o": "You are given a Python function", "cruxeval_i": "You will be given a function f",
                "humaneval": "Please provide a self-contained Python script"}  # fmt: skip
    for name, opening in openings.items():
        for line in (output / name / "samples.jsonl").read_text().splitlines():
            sample = json.loads(line)
            assert sample["prompt"].startswith(opening)
            assert "[/ANSWER]" not in sample["response"]  # CRUXEval's stop word ends generation; never in HumanEval's
    manifest = json.loads((output / "cruxeval_o" / "samples.jsonl.manifest.json").read_text())
    assert manifest["params"]["sampling"]["stop"] == ["[/ANSWER]"]


def test_rerun_skips_finished_and_refuses_other_settings(evaluation, infer_python):
    output, args = evaluation
    before = (output / "gsm8k" / "samples.jsonl").read_bytes()
    again = run_command(infer_python, "evaluate", *args, "--benchmarks", "gsm8k")
    assert "done earlier" in again.stdout
    changed = [a if a != "24" else "16" for a in map(str, args)]
    result = run_command(infer_python, "evaluate", *changed, "--benchmarks", "gsm8k", check=False)
    assert result.returncode == 1 and "different" in result.stderr
    assert (output / "gsm8k" / "samples.jsonl").read_bytes() == before  # finished results kept


def test_compare_makes_table_and_chart(evaluation, benchmark_dir, tmp_path):
    import sys

    output, _ = evaluation
    run_command(sys.executable, "self-check", "--data-dir", benchmark_dir, "--output-dir", tmp_path / "ref")
    result = run_command(sys.executable, "compare", output, tmp_path / "ref", "--output", tmp_path / "cmp",
                        "--labels", "smollm2", "reference")  # fmt: skip
    table = (tmp_path / "cmp.md").read_text()
    assert table.strip() in result.stdout
    assert "| smollm2 |" in table and "| reference |" in table and "math_average" in table and "code_average" in table
    assert (tmp_path / "cmp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--benchmarks", "gsm9k"], "unknown benchmark(s) gsm9k"),
        (["--data-dir", "/nonexistent/data"], "data directory /nonexistent/data does not exist"),
    ],
)
def test_bad_inputs_fail_before_any_engine(args, message, embedded_model, infer_python, tmp_path):
    result = run_command(infer_python, "evaluate", "--model", embedded_model, "--output-dir", tmp_path, *args,
                        check=False)  # fmt: skip
    assert result.returncode != 0 and message in result.stderr
    assert not list(tmp_path.iterdir())


def test_missing_model_is_a_clear_error(infer_python, tmp_path):
    result = run_command(infer_python, "evaluate", "--model", "/nonexistent/model", "--output-dir", tmp_path,
                        check=False)  # fmt: skip
    assert result.returncode != 0 and "'/nonexistent/model' is neither a checkpoint" in result.stderr
