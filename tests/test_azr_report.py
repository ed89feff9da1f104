"""The AZR run's report (issue 14), on a run directory made of real self-play steps (the scripted model
of test_azr_selfplay.py; parsing, sandbox, buffers and rewards for real), killed and resumed, with
evaluations graded by the evaluation's own graders."""

import json

import pytest

from recipe.azr.buffers import TaskBuffers
from recipe.azr.config import checkpoint_buffers
from recipe.azr.report import NO_VALID, is_azr_run, read_steps, write_azr_report
from recipe.azr.selfplay import SelfPlaySettings, run_step
from recipe.azr.step_record import step_record
from recipe.rzero.evaluation.compare import comparison_table, load_summary
from recipe.rzero.evaluation.datasets import load_benchmark
from recipe.rzero.evaluation.grading import reference_response
from recipe.rzero.evaluation.runner import _benchmark_summary, _graded_records, write_results
from tests.test_azr_selfplay import A0, D0, MESSAGE, PROPOSALS, N, scripted_model

SETTINGS = SelfPlaySettings(batch_size=3, references=2, learnability_samples=N, induction_inputs=N)


def evaluate(directory, benchmark_dir, correct: dict[str, int]) -> None:
    """An `rzero evaluate` output directory: the first 4 items of each benchmark graded for real, the
    first `correct[name]` answered with the item's reference, the others with a wrong answer."""
    results = {}
    for name, right in correct.items():
        items = load_benchmark(name, benchmark_dir, limit=4)
        responses = [[reference_response(item) if i < right else "I do not know."] for i, item in enumerate(items)]
        results[name] = _benchmark_summary(name, _graded_records(items, responses), 1)
    write_results(directory, results, directory.name)


def save_model(directory, scale: float) -> None:
    import torch
    from safetensors.torch import save_file

    directory.mkdir(parents=True)
    (directory / "config.json").write_text("{}")
    save_file({"w": torch.full((4,), scale)}, str(directory / "model.safetensors"))


@pytest.fixture(scope="module")
def azr_run(tmp_path_factory, benchmark_dir):
    """Step 1 checkpointed; step 2 recorded, then the run killed before its checkpoint; resumed from
    step 1's buffers, step 2 again (its induction proposals all malformed) checkpointed; killed while
    recording step 3. The trainer appends `json.dumps(record) + "\\n"` per step."""
    run = tmp_path_factory.mktemp("azr") / "run"
    selfplay = run / "selfplay"
    buffers = TaskBuffers.seeded(seed=3)
    first = step_record(1, run_step(buffers, scripted_model(), SETTINGS))
    buffers.save(checkpoint_buffers(selfplay / "global_step_1"))
    killed = step_record(2, run_step(buffers, scripted_model(), SETTINGS))

    buffers = TaskBuffers.load(checkpoint_buffers(selfplay / "global_step_1"))
    no_induction = scripted_model()
    no_induction.proposals = PROPOSALS[:6] + ["Inputs: 1, 2, 3, 4."] * 3
    result = run_step(buffers, no_induction, SETTINGS)
    resumed = step_record(2, result)
    buffers.save(checkpoint_buffers(selfplay / "global_step_2"))
    cut = json.dumps(step_record(3, result))[:150]  # the kill's cut: never read, so step 2's result serves

    lines = "".join(json.dumps(record) + "\n" for record in (first, killed, resumed))
    (selfplay / "azr_steps.jsonl").write_text(lines + cut)
    save_model(run / "base_model", 1.0)
    save_model(selfplay / "model", 1.5)
    (run / "run.json").write_text(json.dumps({"settings": {"BASE_MODEL": str(run / "base_model")}}))
    evaluate(run / "eval" / "base", benchmark_dir, {"cruxeval_o": 1, "cruxeval_i": 2})
    evaluate(run / "eval" / "selfplay", benchmark_dir, {"cruxeval_o": 3, "cruxeval_i": 2})
    return {"run": run, "first": first, "killed": killed, "resumed": resumed, "cut": cut}


def row(report: str, task_type: str, step: int) -> str:
    """The table row of `step` in `task_type`'s section of the report."""
    section = report.split(f"### {task_type}\n", 1)[1].split("\n### ", 1)[0]
    (line,) = [line for line in section.splitlines() if line.startswith(f"| {step} | ")]
    return line


def test_a_rerun_step_counts_once_with_its_later_record_and_a_cut_last_line_is_skipped(azr_run):
    log = read_steps(azr_run["run"] / "selfplay" / "azr_steps.jsonl")
    assert log.records == [azr_run["first"], azr_run["resumed"]]
    assert log.rerecorded == [2] and log.skipped == 1
    assert azr_run["killed"]["task_types"]["induction"]["valid"] == 1  # what the later record replaced
    assert azr_run["resumed"]["task_types"]["induction"]["valid"] == 0


def test_a_record_appended_right_after_a_cut_line_is_read_and_garbage_is_a_clear_error(azr_run, tmp_path):
    """The resumed run appends its first record to the cut line: the line holds the cut and a whole record."""
    first, resumed, cut = azr_run["first"], azr_run["resumed"], azr_run["cut"]
    steps = tmp_path / "azr_steps.jsonl"
    steps.write_text(json.dumps(first) + "\n" + cut + json.dumps(resumed) + "\n")
    log = read_steps(steps)
    assert (log.records, log.rerecorded, log.skipped) == ([first, resumed], [], 1)

    steps.write_text(json.dumps(first) + "\n" + cut + "\n" + json.dumps(resumed) + "\n")
    with pytest.raises(ValueError, match=f"{steps}:2 is not JSON and not a record cut short by a kill"):
        read_steps(steps)
    steps.write_text(json.dumps(first) + "\n" + json.dumps({"step": "two"}) + "\n")
    with pytest.raises(ValueError, match=f"{steps}:2 is not an AZR step record"):
        read_steps(steps)


def test_the_report_shows_every_type_per_step_and_says_when_none_was_valid(azr_run):
    run, resumed = azr_run["run"], azr_run["resumed"]
    report = write_azr_report(run).read_text()
    assert "Self-play steps recorded: 1–2 (2); task types: deduction, abduction, induction." in report
    assert "Step(s) 2 were recorded twice" in report and "1 record(s) cut short by a kill were skipped." in report
    assert "- **induction: no valid proposal** at step(s) 2 (1 of 2 steps)." in report
    assert "deduction: no valid" not in report and "abduction: no valid" not in report

    solve = {kind: f"{values['solve_rate']:.3f}" for kind, values in resumed["task_types"].items()}
    # s̄ and learnability by hand (test_azr_selfplay's LEARNABILITY): deduction s̄ 0.5; abduction 1.0 and 0.25
    assert (
        row(report, "deduction", 2)
        == f"| 2 | 1 of 3 (33.3%) | 0.500 | 0.500 | {solve['deduction']} | 0.333 | 3 | error 1, malformed 1 |"
    )
    assert (
        row(report, "abduction", 2)
        == f"| 2 | 2 of 3 (66.7%) | 0.625 | 0.375 | {solve['abduction']} | 0.667 | 5 | rejected 1 |"
    )
    # valid but never solved (s̄ = 0) is 0; no valid proposal is not
    assert row(report, "induction", 1).startswith("| 1 | 1 of 3 (33.3%) | 0.000 | 0.000 | ")
    assert row(report, "induction", 2) == (
        f"| 2 | 0 of 3 (0.0%) | {NO_VALID} | {NO_VALID} | {solve['induction']} | 0.000 | 2 | malformed 3 |"
    )
    assert "Over all steps: 1 of 6 proposals valid; failures: malformed 4, fewer than two distinct inputs 1." in report
    assert (run / "report" / "selfplay.png").stat().st_size > 0

    assert (
        "`selfplay/global_step_2`: deduction 3 tasks (2 distinct program(s)), abduction 5 tasks (3 distinct" in report
    )
    assert "induction 2 tasks (1 distinct program(s))" in report  # the seed and I0 are both the identity
    assert f"### deduction (step 2)\n\n```python\n{D0.program}\n```\n\n```\nf({D0.input}) == {D0.output}\n```" in report
    assert f"```python\n{A0.program}\n```" in report
    assert "### induction (step 1; no valid proposal after it)" in report
    assert f"f(1) == 1\nf('a') == 'a'\n```\n\nMessage:\n\n```\n{MESSAGE}\n```" in report
    assert "Relative L2 change of `selfplay/model` from the base model: 5.00e-01." in report


def test_the_evaluation_before_and_after_is_the_r_zero_reports_table(azr_run):
    run = azr_run["run"]
    report = write_azr_report(run, weights=False).read_text()
    summaries = {label: load_summary(run / "eval" / label) for label in ("base", "selfplay")}
    table = comparison_table(summaries)
    assert f"## Evaluation (accuracy %)\n\n{table}" in report and "paper:" not in report
    assert "| base | 25.00 | 50.00 | 37.50 |" in table and "| selfplay | 75.00 | 50.00 | 62.50 |" in table
    assert (run / "report" / "evaluation.png").stat().st_size > 0
    assert "from the base model: not compared (--no-weights)." in report


def test_rzero_report_writes_the_azr_report_for_an_azr_run(azr_run, tmp_path, capsys):
    from recipe.rzero.commands import ReportConfig, report

    report(ReportConfig(run_dir=azr_run["run"], weights=False))
    assert capsys.readouterr().out.strip() == (azr_run["run"] / "report" / "report.md").read_text().strip()
    assert (azr_run["run"] / "report" / "report.md").read_text().startswith("# AZR run report: run")

    (tmp_path / "iter_1").mkdir()
    assert not is_azr_run(tmp_path)
    with pytest.raises(FileNotFoundError, match="selfplay/azr_steps.jsonl does not exist"):
        write_azr_report(tmp_path)


def test_a_run_in_progress_and_a_type_never_valid(azr_run, tmp_path):
    """Only the resumed step 2 recorded (its induction proposals all malformed), no checkpoint, model or evaluation."""
    (tmp_path / "selfplay").mkdir()
    (tmp_path / "selfplay" / "azr_steps.jsonl").write_text(json.dumps(azr_run["resumed"]) + "\n")
    report = write_azr_report(tmp_path).read_text()
    assert f"- **induction: {NO_VALID} in any of its 1 step(s)**; its s̄ and learnability are undefined" in report
    assert f"### induction\n\nNone: induction had {NO_VALID} in any step." in report
    assert "## Buffers" not in report and "from the base model: no merged model in selfplay/model yet." in report
    assert "No evaluation: neither `eval/base/summary.json` nor `eval/selfplay/summary.json` exists." in report
