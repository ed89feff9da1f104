"""The report of an AZR self-play run (issue 14): what each step proposed, validated, learned and
solved, as Markdown plus a PNG plot. `rzero report RUN_DIR` writes it for a run directory that holds
`selfplay/azr_steps.jsonl` (`is_azr_run`), else R-Zero's report (`recipe.rzero.report`).

Reads only what the run wrote into RUN_DIR:
- `selfplay/azr_steps.jsonl`: one `step_record` per self-play step, appended by the trainer. A run
  killed and resumed from an earlier checkpoint records the steps it re-runs again: the later line
  is what the resumed run did and wins. A line cut short by the kill is skipped (and counted); when
  the resumed run appended its first record right after the cut, that record is read from the line.
- `selfplay/global_step_N/azr_buffers.json`: the task buffers of the latest checkpoint.
- `eval/base` and `eval/selfplay` (`rzero evaluate`'s output directories): the benchmarks before and
  after self-play, in the R-Zero report's table (`recipe.rzero.report.evaluation_lines`).
- `selfplay/model` and `BASE_MODEL` of `run.json`: how far self-play moved the weights.
Writes `report/report.md`, `report/summary.json`, `report/selfplay.png` and the evaluation table's files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipe.rzero.artifacts import atomic_path, write_json
from recipe.rzero.report import evaluation_lines, figure_row, save_figure, weight_change

from .buffers import TASK_TYPES, TaskBuffers
from .config import BUFFERS_FILE, STEPS_FILE

SELFPLAY_DIR = "selfplay"  # trainer.default_local_dir of the self-play training
EVALUATIONS = ("base", "selfplay")  # eval/<label>: before and after self-play
NO_VALID = "no valid proposal"
CURVES = {  # plot title -> record field, per task type and step
    "valid proposals (share)": "valid_rate",
    "s̄ of valid proposals": "success_rate",
    "learnability (Eq. 4)": "learnability",
    "solve rate": "solve_rate",
    "buffer size": "buffer_size",
}
_RECORD_START = '{"step": '  # how json.dumps begins a step record; inside strings its quotes are escaped


def is_azr_run(run_dir: Path) -> bool:
    """Whether `run_dir` is an AZR run directory: its self-play training has recorded steps."""
    return (Path(run_dir) / SELFPLAY_DIR / STEPS_FILE).is_file()


@dataclass
class StepLog:
    """The step records of a run: one per step, by step; `rerecorded`: the steps recorded more than once
    (the later record is kept); `skipped`: records cut short by a kill."""

    records: list[dict[str, Any]]
    rerecorded: list[int]
    skipped: int


def _record(text: str, path: Path, number: int) -> dict[str, Any]:
    record = json.loads(text)
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("step"), int)
        or not isinstance(record.get("task_types"), dict)
    ):
        raise ValueError(f"{path}:{number} is not an AZR step record (a 'step' number and 'task_types')")
    return record


def _after_cut(line: str, path: Path, number: int) -> dict[str, Any] | None:
    """The whole record that follows a record cut short on the same line, if there is one."""
    decoder = json.JSONDecoder()
    for match in re.finditer(re.escape(_RECORD_START), line):
        if match.start() == 0:
            continue
        try:
            _, end = decoder.raw_decode(line, match.start())
        except json.JSONDecodeError:
            continue
        if end == len(line):
            return _record(line[match.start() :], path, number)
    return None


def read_steps(path: Path) -> StepLog:
    """The records of `azr_steps.jsonl` at `path` (see the module doc for kills and resumes). Raises
    `ValueError` naming the file and line for a line that is neither a record nor cut by a kill."""
    path = Path(path)
    lines = [(number, line) for number, line in enumerate(path.read_text().split("\n"), 1) if line.strip()]
    by_step: dict[int, dict[str, Any]] = {}
    rerecorded: set[int] = set()
    skipped = 0
    for position, (number, line) in enumerate(lines):
        try:
            record = _record(line, path, number)
        except json.JSONDecodeError:
            skipped += 1
            record = _after_cut(line, path, number)
            if record is None and position < len(lines) - 1:
                raise ValueError(f"{path}:{number} is not JSON and not a record cut short by a kill") from None
        if record is None:
            continue
        if record["step"] in by_step:
            rerecorded.add(record["step"])
        by_step[record["step"]] = record
    return StepLog([by_step[step] for step in sorted(by_step)], sorted(rerecorded), skipped)


def latest_buffers(selfplay: Path) -> tuple[int, TaskBuffers] | None:
    """The step and buffers of the latest `global_step_N/azr_buffers.json` under `selfplay`, or None."""
    saved = [
        (int(directory.name.removeprefix("global_step_")), directory / BUFFERS_FILE)
        for directory in selfplay.glob("global_step_*")
        if directory.name.removeprefix("global_step_").isdigit() and (directory / BUFFERS_FILE).is_file()
    ]
    if not saved:
        return None
    step, path = max(saved)
    return step, TaskBuffers.load(path)


def task_types(records: list[dict[str, Any]]) -> list[str]:
    """The task types of the records: the paper's order, then any other in order of appearance."""
    seen = dict.fromkeys(task_type for record in records for task_type in record["task_types"])
    return [t for t in TASK_TYPES if t in seen] + [t for t in seen if t not in TASK_TYPES]


def _buffer_summary(step: int, buffers: TaskBuffers) -> dict[str, Any]:
    distinct = {task_type: len({task.program for task in tasks}) for task_type, tasks in buffers.tasks.items()}
    return {"step": step, "sizes": buffers.sizes(), "distinct_programs": distinct}


def collect(run_dir: Path, weights: bool = True) -> dict[str, Any]:
    """Everything the report shows, from the files of `run_dir`."""
    info = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
    settings = info.get("settings", {})
    selfplay = run_dir / SELFPLAY_DIR
    log = read_steps(selfplay / STEPS_FILE)
    buffers = latest_buffers(selfplay)
    model, base = selfplay / "model", settings.get("BASE_MODEL")
    moved: float | str
    if not weights:
        moved = "not compared (--no-weights)"
    elif not (model / "config.json").is_file():
        moved = "no merged model in selfplay/model yet"
    elif not base or not Path(base).is_dir():
        moved = f"not compared: the base model {base!r} of run.json is not a local directory"
    else:
        moved = weight_change(base, model)
    return {
        "settings": settings,
        "steps": log.records,
        "rerecorded_steps": log.rerecorded,
        "skipped_records": log.skipped,
        "task_types": task_types(log.records),
        "buffers": None if buffers is None else _buffer_summary(*buffers),
        "weight_change": moved,
        "evaluations": {
            label: run_dir / "eval" / label
            for label in EVALUATIONS
            if (run_dir / "eval" / label / "summary.json").is_file()
        },
    }


def _number(value: float) -> str:
    """Three decimals, unless they would show a value that is not 0 or 1 as 0 or 1."""
    text = f"{value:.3f}"
    return repr(float(value)) if float(text) in (0.0, 1.0) and value not in (0, 1) else text


def _steps_text(steps: list[int]) -> str:
    """`[1, 2, 3, 5]` -> `1–3, 5`."""
    spans: list[list[int]] = []
    for step in steps:
        if spans and step == spans[-1][1] + 1:
            spans[-1][1] = step
        else:
            spans.append([step, step])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _failures(failures: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])))


def _fenced(text: str, language: str = "") -> list[str]:
    """A Markdown code block holding `text` as it is (the fence is longer than any backtick run in it)."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{fence}{language}", text, fence]


def _no_valid_lines(records: list[dict[str, Any]], types: list[str]) -> list[str]:
    """Each task type's steps without a valid proposal, in words."""
    lines = []
    for task_type in types:
        recorded = [r["step"] for r in records if task_type in r["task_types"]]
        none = [r["step"] for r in records if task_type in r["task_types"] and r["task_types"][task_type]["valid"] == 0]
        if none and len(none) == len(recorded):
            lines.append(
                f"- **{task_type}: {NO_VALID} in any of its {len(recorded)} step(s)**; its s̄ and learnability "
                "are undefined throughout (not 0), and its proposer had no learnability reward."
            )
        elif none:
            lines.append(
                f"- **{task_type}: {NO_VALID}** at step(s) {_steps_text(none)} ({len(none)} of {len(recorded)} steps)."
            )
    return lines or ["Every task type had at least one valid proposal at every recorded step."]


def _type_table(records: list[dict[str, Any]], task_type: str) -> list[str]:
    lines = [
        f"### {task_type}",
        "",
        "| step | valid proposals | s̄ | learnability | solve rate | new in solve batch | buffer size | failures |",
        "|---" * 8 + "|",
    ]
    totals: dict[str, int] = {}
    for record in records:
        values = record["task_types"].get(task_type)
        if values is None:
            continue
        for kind, count in values["failures"].items():
            totals[kind] = totals.get(kind, 0) + count
        defined = {
            name: NO_VALID if values[name] is None else _number(values[name])
            for name in ("success_rate", "learnability")
        }
        failures = _failures(values["failures"]) or "—"
        lines.append(
            f"| {record['step']} | {values['valid']} of {values['proposals']} ({100 * values['valid_rate']:.1f}%) "
            f"| {defined['success_rate']} | {defined['learnability']} | {_number(values['solve_rate'])} "
            f"| {_number(values['new_solve_share'])} | {values['buffer_size']} | {failures} |"
        )
    proposed = sum(r["task_types"][task_type]["proposals"] for r in records if task_type in r["task_types"])
    valid = sum(r["task_types"][task_type]["valid"] for r in records if task_type in r["task_types"])
    lines += [
        "",
        f"Over all steps: {valid} of {proposed} proposals valid; failures: {_failures(totals) or 'none'}.",
        "",
    ]
    return lines


def _sample_lines(records: list[dict[str, Any]], types: list[str]) -> list[str]:
    """The last recorded sample of each type (each record keeps one valid proposal per type)."""
    lines = ["## Sample tasks", "", "The last valid proposal recorded for each task type:", ""]
    last_step = records[-1]["step"]
    for task_type in types:
        found = [(r["step"], r["task_types"][task_type]["sample"]) for r in records
                 if r["task_types"].get(task_type, {}).get("sample") is not None]  # fmt: skip
        if not found:
            lines += [f"### {task_type}", "", f"None: {task_type} had {NO_VALID} in any step.", ""]
            continue
        step, sample = found[-1]
        later = "" if step == last_step else f"; {NO_VALID} after it"
        lines += [f"### {task_type} (step {step}{later})", "", *_fenced(sample["program"], "python"), ""]
        if "visible" in sample:  # induction: the shown pairs and the message
            pairs = "\n".join(f"f({given}) == {output}" for given, output in sample["visible"])
            lines += [
                "Shown input/output pairs:",
                "",
                *_fenced(pairs),
                "",
                "Message:",
                "",
                *_fenced(sample["message"]),
                "",
            ]
        else:
            lines += [*_fenced(f"f({sample['input']}) == {sample['output']}"), ""]
    return lines


def _plot(records: list[dict[str, Any]], types: list[str], path: Path) -> None:
    figure, axes = figure_row(len(CURVES))
    for axis, (title, name) in zip(axes[0], CURVES.items()):
        for task_type in types:
            points = [(r["step"], r["task_types"][task_type][name]) for r in records if task_type in r["task_types"]]
            steps = [step for step, _ in points]
            values = [float("nan") if value is None else value for _, value in points]  # None: a gap
            axis.plot(steps, values, marker="o", label=task_type)
        axis.set_title(title)
        axis.set_xlabel("step")
    axes[0][0].legend()
    save_figure(figure, path)


def write_azr_report(run_dir: Path, weights: bool = True) -> Path:
    """Write `run_dir/report/report.md` (with `selfplay.png`, `summary.json` and the evaluation table)
    for an AZR run; return the Markdown path."""
    run_dir = Path(run_dir)
    if not is_azr_run(run_dir):
        raise FileNotFoundError(f"{run_dir} is not an AZR run directory: {SELFPLAY_DIR}/{STEPS_FILE} does not exist")
    out = run_dir / "report"
    out.mkdir(exist_ok=True)
    data = collect(run_dir, weights)
    records, types = data["steps"], data["task_types"]
    base = data["settings"].get("BASE_MODEL")
    lines = [f"# AZR run report: {run_dir.name}", ""]
    head = f"Base model `{base}`. " if base else ""
    if records:
        steps = [r["step"] for r in records]
        head += f"Self-play steps recorded: {_steps_text(steps)} ({len(steps)}); task types: {', '.join(types)}. "
    else:
        head += f"No self-play step recorded yet in `{SELFPLAY_DIR}/{STEPS_FILE}`. "
    lines += [head + "Full settings and versions: `run.json`.", ""]
    if data["rerecorded_steps"]:
        lines += [
            f"Step(s) {_steps_text(data['rerecorded_steps'])} were recorded twice (a resumed run re-ran them from "
            "its checkpoint): the later record, what the resumed run did, is shown.",
            "",
        ]
    if data["skipped_records"]:
        lines += [f"{data['skipped_records']} record(s) cut short by a kill were skipped.", ""]
    if records:
        lines += [
            "## Self-play",
            "",
            "Per step: the proposals that validated in the sandbox (of those made); s̄, the mean share of the "
            "solver's n samples the executor verified on the valid proposals; learnability, their mean Eq. 4 "
            "reward (1 − s̄ when 0 < s̄ < 1, else 0; the proposer's reward before the format rule); the solve rate "
            "of the solver batch (verified answers / B); the share of that batch proposed this step; the buffer "
            f'size after the step; why the other proposals failed. "{NO_VALID}": s̄ and learnability are '
            "undefined that step, not 0.",
            "",
            *_no_valid_lines(records, types),
            "",
        ]
        for task_type in types:
            lines += _type_table(records, task_type)
        _plot(records, types, out / "selfplay.png")
        lines += ["![self-play](selfplay.png)", ""]
    if data["buffers"]:
        buffers = data["buffers"]
        sizes = ", ".join(
            f"{t} {size} tasks ({buffers['distinct_programs'][t]} distinct program(s))"
            for t, size in buffers["sizes"].items()
        )
        lines += ["## Buffers", "", f"Latest checkpoint, `{SELFPLAY_DIR}/global_step_{buffers['step']}`: {sizes}.", ""]
    if records:
        lines += _sample_lines(records, types)
    moved = data["weight_change"]
    moved_text = f"{moved:.2e}" if isinstance(moved, float) else moved
    lines += ["## Weights", "", f"Relative L2 change of `{SELFPLAY_DIR}/model` from the base model: {moved_text}.", ""]
    lines += evaluation_lines(data["evaluations"], out)  # the R-Zero paper's scores are not AZR's: no `paper`
    if not data["evaluations"]:
        before, after = (f"`eval/{label}/summary.json`" for label in EVALUATIONS)
        lines += ["## Evaluation", "", f"No evaluation: neither {before} nor {after} exists.", ""]
    write_json(out / "summary.json", {**data, "evaluations": {k: str(v) for k, v in data["evaluations"].items()}})
    report = out / "report.md"
    with atomic_path(report) as temporary:
        temporary.write_text("\n".join(lines))
    return report
