"""The paper's table from one command: the GPU examples evaluate every iteration, compare shows the
paper's reported scores beside ours, the report shades the p̂ band the label stage used (issue 12)."""

import json
import os
import shlex
import subprocess
import sys

import pytest

from recipe.rzero.artifacts import StageManifest
from recipe.rzero.evaluation.paper import COLUMNS, REPORTED, SOURCE
from recipe.rzero.report import kept_band
from tests.helpers import ROOT, run_command

TEN_BENCHMARKS = {
    "math500", "gsm8k", "amc23", "minerva", "olympiadbench", "aime24", "aime25", "mmlu_pro", "supergpqa", "bbeh",
}  # fmt: skip


def plan(script: str, tmp_path, *flags: str) -> dict[str, list[str]]:
    """Stage name -> command of `examples/<script> --dry-run [flags]`."""
    env = {**os.environ, "RUN_DIR": str(tmp_path / "run")}
    result = subprocess.run(["bash", str(ROOT / "examples" / script), "--dry-run", *flags],
                            capture_output=True, text=True, env=env, check=True)  # fmt: skip
    stages, name = {}, None
    for line in result.stdout.splitlines():
        if line.startswith("# stage "):
            name = line.removeprefix("# stage ")
        elif name and line.strip():
            stages[name], name = shlex.split(line), None
    return stages


@pytest.mark.parametrize("script", ["run_qwen3_4b.sh", "run_qwen3_8b.sh"])
def test_gpu_examples_evaluate_the_base_model_and_every_iteration(script, tmp_path):
    stages = plan(script, tmp_path)
    for k in range(4):
        command = stages[f"iter_{k}_evaluate"]
        benchmarks = command[command.index("--benchmarks") + 1 :]
        assert set(benchmarks[: benchmarks.index("--max-tokens")]) == TEN_BENCHMARKS
        model = command[command.index("--model") + 1]
        assert model.startswith("Qwen/") if k == 0 else model.endswith(f"iter_{k}/solver_checkpoints/model")
        assert command[command.index("--output-dir") + 1].endswith(f"eval/iter_{k}")
    for k in range(1, 4):  # pseudo-label accuracy on a gold slice, by the Solver that labels that iteration
        command = stages[f"iter_{k}_label_gold"]
        assert "--gold" in command and command[command.index("--benchmark") + 1] == "math500"
        label = stages[f"iter_{k}_label"]
        assert command[command.index("--model") + 1] == label[label.index("--model") + 1]


def test_no_eval_turns_the_evaluation_stages_off(tmp_path):
    stages = plan("run_qwen3_4b.sh", tmp_path, "--no-eval")
    assert not [name for name in stages if name.endswith(("_evaluate", "_label_gold"))]
    assert "iter_3_solver_train" in stages


@pytest.fixture(scope="module")
def self_check_run(benchmark_dir, tmp_path_factory):
    """A real evaluation directory: the self-check on GSM8K and MMLU-Pro."""
    output = tmp_path_factory.mktemp("self_check")
    run_command(sys.executable, "self-check", "--data-dir", benchmark_dir, "--output-dir", output,
               "--benchmarks", "gsm8k", "mmlu_pro")  # fmt: skip
    return output


@pytest.mark.parametrize("model", list(REPORTED))
def test_compare_shows_the_paper_beside_ours(model, self_check_run, tmp_path):
    result = run_command(sys.executable, "compare", self_check_run, "--labels", "ours",
                        "--paper", model, "--output", tmp_path / "cmp")  # fmt: skip
    table = (tmp_path / "cmp.md").read_text()
    assert result.stdout.strip() == table.strip()
    header = [cell.strip() for cell in table.splitlines()[0].strip("|").split("|")]
    rows = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    assert rows["ours"][header.index("gsm8k") - 1] == "100.00"
    for run, values in REPORTED[model].items():
        cells = rows[f"paper: {run}"]
        for column, value in zip(COLUMNS, values):
            assert cells[header.index(column) - 1] == f"{value:.2f}"
        assert cells[header.index("gsm8k") - 1] == "—"  # not reported per benchmark: never made up
    assert SOURCE in table and model in table


def test_compare_rejects_an_unknown_paper_model(self_check_run, tmp_path):
    result = run_command(sys.executable, "compare", self_check_run, "--paper", "Llama-3-8B",
                        "--output", tmp_path / "cmp", check=False)  # fmt: skip
    assert result.returncode != 0 and "Qwen3-4B-Base" in result.stderr


def test_paper_averages_follow_our_definition():
    """Overall = mean of the math average and the three general benchmarks, as `runner.overall_summary`."""
    for runs in REPORTED.values():
        for overall, math, *general in runs.values():
            assert overall == pytest.approx((math + sum(general)) / 4, abs=0.01)


@pytest.mark.parametrize(("params", "band"), [
    ({"low": 0.3, "high": 0.7, "filter": True}, (0.3, 0.7)),
    ({"low": 0.2, "high": 0.9, "filter": True}, (0.2, 0.9)),
    ({"low": 0.3, "high": 0.7, "filter": False}, None),  # --no-filter: every question, no band
])  # fmt: skip
def test_the_report_reads_the_band_the_label_stage_used(params, band, tmp_path):
    labels = tmp_path / "solver_train.parquet"
    labels.write_bytes(b"rows")
    StageManifest("label", params, {"model": "m"}).record(labels)
    assert kept_band(labels) == band
    assert kept_band(tmp_path / "missing.parquet") is None
    assert json.loads(StageManifest.path_for(labels).read_text())["params"]["low"] == params["low"]


def test_the_report_shades_the_band_and_shows_the_paper(self_check_run, tmp_path):
    """A run directory as the loop leaves it (no training curves or models): the report shows the kept
    band of each iteration and, for a base model the paper reports, its scores beside ours."""
    import shutil

    from recipe.rzero.artifacts import write_json, write_jsonl
    from recipe.rzero.report import write_report

    run = tmp_path / "run"
    write_json(run / "run.json", {"settings": {"BASE_MODEL": "Qwen/Qwen3-4B-Base", "ITERATIONS": "2"}})
    for k, params in ((1, {"low": 0.2, "high": 0.8, "filter": True}), (2, {"low": 0.3, "high": 0.7, "filter": False})):
        labels = run / f"iter_{k}" / "solver_train.parquet"
        write_jsonl(labels.with_name("solver_train.votes.jsonl"), [{"p_hat": p} for p in (0.1, 0.5, 0.6, 0.9)])
        labels.write_bytes(b"rows")
        StageManifest("label", params, {"model": "m"}).record(labels)
    shutil.copytree(self_check_run, run / "eval" / "iter_0")
    report = write_report(run, weights=False).read_text()
    assert "iteration 1: 0.2 ≤ p̂ ≤ 0.8; iteration 2: every question, no band (--no-filter)" in report
    assert "| paper: iteration 3 | " in report and SOURCE in report
    assert (run / "report" / "p_hat_histogram.png").stat().st_size > 0
