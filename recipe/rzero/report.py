"""The run report: what each R-Zero iteration did, as Markdown plus PNG plots.

Reads only what the loop's stages wrote into RUN_DIR (both engines):
- `iter_k/<role>_checkpoints/tensorboard`: per-step training metrics, only the `rzero/*` names both
  engines log (`rzero_rewards.step_metrics`; the Challenger's batch diagnostics);
- `iter_k/questions.stats.json`, `iter_k/solver_train.stats.json`, `iter_k/solver_train.votes.jsonl`:
  well-formed questions, p̂ of every labelled question, kept fraction; the label stage's manifest
  (`solver_train.parquet.manifest.json`): the p̂ band it kept;
- with `TASK=code` (issue 13), `iter_k/tasks.stats.json` and `iter_k/solver_train.verdicts.jsonl`
  instead: the share of proposals that validate per task type, and the verified success rate s̄ of
  every labelled task in place of p̂;
- `iter_k/gold_labels.stats.json`: pseudo-label accuracy on questions with real answers;
- `eval/iter_k/summary.json`: benchmark scores (the paper-style table, via `evaluation.compare`, beside
  the paper's reported scores when the base model is one of `evaluation.paper.REPORTED`);
- the HF models of each iteration: how far the weights moved (relative L2 change), next to how
  many training steps had a learning signal (rewards that differed within a group).
Writes `report/report.md`, `report/summary.json` and `report/*.png`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rzero_rewards.step_metrics import EQUAL_REWARD_GROUPS, REWARD_MEAN

from .artifacts import StageManifest, atomic_path, read_jsonl, write_json
from .evaluation.compare import compare_runs
from .evaluation.paper import REPORTED

CHALLENGER_CURVES = {
    "reward": REWARD_MEAN,
    "uncertainty": "rzero/uncertainty/mean",
    "repetition penalty": "rzero/repetition_penalty/mean",
    "format failures": "rzero/format_failure_rate",
}


def read_scalars(directory: Path) -> dict[str, list[tuple[int, float]]]:
    """All scalars of the TensorBoard event files under `directory`, keyed by tag without `train/`."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(directory.rglob("events.out.tfevents.*")) if directory.is_dir() else []:
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            name = tag.removeprefix("train/")
            scalars.setdefault(name, []).extend((event.step, event.value) for event in accumulator.Scalars(tag))
    return {name: sorted(points) for name, points in scalars.items()}


def signal_steps(curves: dict[str, list[tuple[int, float]]]) -> dict[str, list[int]] | None:
    """The logged training steps and those with a learning signal (some group's rewards differed, so some
    advantage ≠ 0: `EQUAL_REWARD_GROUPS` < 1); `None` if not logged.

    A GRPO step in which every group's rewards were equal has all-zero advantages and cannot move
    the weights: with a tiny model and budget this happens, and the report says so.
    """
    if EQUAL_REWARD_GROUPS not in curves:
        return None
    points = curves[EQUAL_REWARD_GROUPS]
    return {"steps": [step for step, _ in points], "with_signal": [step for step, share in points if share < 1.0]}


def _json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def model_dir(iteration_dir: Path, role: str) -> Path | None:
    """The HF model a role's training produced in an iteration (either engine: `<checkpoints>/model`)."""
    candidate = iteration_dir / f"{role}_checkpoints" / "model"
    return candidate if (candidate / "config.json").is_file() else None


def weight_change(before: str | Path, after: Path) -> float:
    """‖after − before‖ / ‖before‖ over every tensor of two safetensors checkpoints (streamed)."""
    from safetensors import safe_open

    def tensors(path: Path) -> dict[str, Path]:
        return {name: file for file in sorted(Path(path).glob("*.safetensors")) for name in _names(file)}

    def _names(file: Path) -> list[str]:
        with safe_open(str(file), framework="pt") as handle:
            return list(handle.keys())

    old, new = tensors(Path(before)), tensors(after)
    if not old or set(old) != set(new):
        raise ValueError(f"{before} and {after} do not hold the same safetensors tensors")
    difference = norm = 0.0
    for name in old:
        with safe_open(str(old[name]), framework="pt") as a, safe_open(str(new[name]), framework="pt") as b:
            x, y = a.get_tensor(name).double(), b.get_tensor(name).double()
        difference += float((y - x).square().sum())
        norm += float(x.square().sum())
    return math.sqrt(difference / norm) if norm else math.inf


def collect(run_dir: Path, weights: bool = True) -> dict[str, Any]:
    """Everything the report shows, per iteration, from the files of `run_dir`."""
    settings = (_json(run_dir / "run.json") or {}).get("settings", {})
    base = settings.get("BASE_MODEL")
    iterations: list[dict[str, Any]] = []
    previous = {"challenger": base, "solver": base}
    k = 1
    code = settings.get("TASK") == "code"  # verified code tasks: s̄ (success_rate) in place of p̂
    votes_name = "solver_train.verdicts.jsonl" if code else "solver_train.votes.jsonl"
    p_hat_key = "success_rate" if code else "p_hat"
    while (directory := run_dir / f"iter_{k}").is_dir():
        votes = directory / votes_name
        entry: dict[str, Any] = {
            "iteration": k,
            "challenger_curves": read_scalars(directory / "challenger_checkpoints" / "tensorboard"),
            "solver_curves": read_scalars(directory / "solver_checkpoints" / "tensorboard"),
            "questions": _json(directory / ("tasks.stats.json" if code else "questions.stats.json")),
            "labels": _json(directory / "solver_train.stats.json"),
            "gold": _json(directory / "gold_labels.stats.json"),
            "p_hats": [record[p_hat_key] for record in read_jsonl(votes)] if votes.is_file() else [],
            "band": kept_band(directory / "solver_train.parquet"),
            "weight_change": {},
        }
        entry["signal_steps"] = {role: signal_steps(entry[f"{role}_curves"]) for role in ("challenger", "solver")}
        for role in ("challenger", "solver"):
            model = model_dir(directory, role)
            if model is None:
                continue
            if weights and previous[role]:
                entry["weight_change"][role] = weight_change(previous[role], model)
            previous[role] = str(model)
        iterations.append(entry)
        k += 1
    evaluations = {
        ("base" if path.name == "iter_0" else path.name.replace("iter_", "iteration ")): path
        for path in sorted((run_dir / "eval").glob("iter_*"), key=lambda p: int(p.name.split("_")[1]))
        if (path / "summary.json").is_file()
    }
    return {"settings": settings, "iterations": iterations, "evaluations": evaluations}


def kept_band(labels: Path) -> tuple[float, float] | None:
    """The p̂ band `[low, high]` the label stage kept for `labels` (its manifest); `None` if it kept
    every labelled question (`--no-filter`; label-code: `--keep all` or `learnable`) or has not run."""
    manifest = _json(StageManifest.path_for(labels))
    if manifest is None:
        return None
    params = manifest["params"]
    if not params.get("filter", True) or params.get("keep", "band") != "band":
        return None
    return params["low"], params["high"]


def _curve_value(curves: dict[str, list[tuple[int, float]]], tag: str) -> str:
    points = curves.get(tag)
    if not points:
        return "—"
    return f"{points[0][1]:.3f} → {points[-1][1]:.3f}"


def _moved(entry: dict[str, Any], role: str) -> str:
    """A role's weight change, with how many of its steps had a learning signal."""
    signal = entry["signal_steps"][role]
    counts = "" if signal is None else f" ({len(signal['with_signal'])} of {len(signal['steps'])} steps with signal)"
    return f"{entry['weight_change'][role]:.2e}{counts}"


def _code_task_lines(iterations: list[dict[str, Any]]) -> list[str]:
    """With `TASK=code`: each iteration's proposals that validate, per task type (generate-code's stats)."""
    lines = []
    for entry in iterations:
        by_type = (entry["questions"] or {}).get("by_type")
        if by_type:
            shares = ", ".join(
                f"{task_type} {counts['valid']} of {counts['proposals']} ({_percent(counts['valid_fraction'])})"
                for task_type, counts in by_type.items()
            )
            lines.append(f"- iteration {entry['iteration']}: code tasks that validate: {shares}")
    return ["Code tasks proposed by Challenger(k) and validated in the sandbox:", "", *lines, ""] if lines else []


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def write_report(run_dir: Path, weights: bool = True) -> Path:
    """Write `run_dir/report/report.md` with its plots; return the Markdown path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist")
    out = run_dir / "report"
    out.mkdir(exist_ok=True)
    data = collect(run_dir, weights)
    iterations = data["iterations"]
    settings = data["settings"]
    lines = [f"# R-Zero run report: {run_dir.name}", ""]
    if settings:
        lines += [
            f"Engine `{settings.get('ENGINE')}`, base model `{settings.get('BASE_MODEL')}`, "
            f"{settings.get('ITERATIONS')} iteration(s); flags: `{settings.get('flags') or 'none'}`. "
            "Full settings and versions: `run.json`.",
            "",
        ]
    lines += [
        "## Iterations",
        "",
        "| iteration | Challenger reward (first → last step) | uncertainty | repetition penalty | "
        "questions well-formed | labelled p̂ in band (kept) | pseudo-label accuracy (gold) | "
        "Solver reward (first → last step) | Challenger weights moved | Solver weights moved |",
        "|---" * 10 + "|",
    ]
    for entry in iterations:
        challenger, solver = entry["challenger_curves"], entry["solver_curves"]
        questions, labels, gold = entry["questions"] or {}, entry["labels"] or {}, entry["gold"] or {}
        moved = {role: _moved(entry, role) for role in entry["weight_change"]}
        lines.append(
            f"| {entry['iteration']} | {_curve_value(challenger, CHALLENGER_CURVES['reward'])} "
            f"| {_curve_value(challenger, CHALLENGER_CURVES['uncertainty'])} "
            f"| {_curve_value(challenger, CHALLENGER_CURVES['repetition penalty'])} "
            f"| {questions.get('kept', '—')} of {questions.get('samples', '—')} "
            f"| {labels.get('kept', '—')} of {labels.get('questions', labels.get('tasks', '—'))} "
            f"({_percent(labels.get('kept_fraction'))}) "
            f"| {_percent(gold.get('pseudo_label_accuracy'))} "
            f"| {_curve_value(solver, REWARD_MEAN)} | {moved.get('challenger', '—')} | {moved.get('solver', '—')} |"
        )
    lines += [
        "",
        "Weights moved: relative L2 change from the previous iteration's model. A step has a signal when "
        "some prompt's rollouts got different rewards; in a step without one every GRPO advantage is 0.",
        "",
        *_code_task_lines(iterations),
    ]
    if _plot_challenger(iterations, out / "challenger_training.png"):
        lines += ["![Challenger training](challenger_training.png)", ""]
    if _plot_p_hat(iterations, out / "p_hat_histogram.png"):
        labelled = (
            "s̄ of every labelled code task (the share of the Solver's answers the executor verified)"
            if settings.get("TASK") == "code"
            else "p̂ of every labelled question (the Solver's agreement with its majority answer)"
        )
        lines += [
            f"{labelled}; the shaded band is what the Solver trains on ({_bands(iterations)}).",
            "",
            "![p-hat histogram](p_hat_histogram.png)",
            "",
        ]
    paper = str(settings.get("BASE_MODEL", "")).rsplit("/", 1)[-1]
    lines += evaluation_lines(data["evaluations"], out, paper if paper in REPORTED else None)
    write_json(out / "summary.json", {**data, "evaluations": {k: str(v) for k, v in data["evaluations"].items()}})
    report = out / "report.md"
    with atomic_path(report) as temporary:
        temporary.write_text("\n".join(lines))
    return report


def evaluation_lines(evaluations: dict[str, Path], out: Path, paper: str | None = None) -> list[str]:
    """The report's evaluation section: `evaluation.compare`'s table of the labelled evaluation output
    directories (written with its bar chart to `out/evaluation.{md,png}`); none without evaluations.
    `paper`: a base model of `paper.REPORTED` whose reported scores follow ours."""
    if not evaluations:
        return []
    table = compare_runs(list(evaluations.values()), out / "evaluation", list(evaluations), paper)
    return ["## Evaluation (accuracy %)", "", table, "![evaluation](evaluation.png)", ""]


def figure_row(columns: int) -> tuple[Any, Any]:
    """A matplotlib figure of `columns` plots side by side (`axes[0][i]`), headless."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, columns, figsize=(4 * columns, 3.2), squeeze=False)


def save_figure(figure: Any, path: Path) -> None:
    """Write `figure` to `path` as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110)
    plt.close(figure)


def _plot_challenger(iterations: list[dict[str, Any]], path: Path) -> bool:
    if not any(entry["challenger_curves"] for entry in iterations):
        return False
    figure, axes = figure_row(len(CHALLENGER_CURVES))
    for axis, (title, tag) in zip(axes[0], CHALLENGER_CURVES.items()):
        for entry in iterations:
            points = entry["challenger_curves"].get(tag, [])
            if points:
                axis.plot(*zip(*points), marker="o", label=f"iteration {entry['iteration']}")
        axis.set_title(f"Challenger {title}")
        axis.set_xlabel("step")
    axes[0][0].legend()
    save_figure(figure, path)
    return True


def _bands(iterations: list[dict[str, Any]]) -> str:
    """The kept p̂ band of each iteration, in words."""
    described = []
    for entry in iterations:
        band = "{} ≤ p̂ ≤ {}".format(*entry["band"]) if entry["band"] else "every question, no band (--no-filter)"
        described.append(f"iteration {entry['iteration']}: {band}")
    return "; ".join(described)


def _plot_p_hat(iterations: list[dict[str, Any]], path: Path) -> bool:
    if not any(entry["p_hats"] for entry in iterations):
        return False
    figure, axes = figure_row(1)
    axis = axes[0][0]
    bins = [i / 10 - 0.05 for i in range(12)]
    axis.hist([entry["p_hats"] for entry in iterations], bins=bins,
              label=[f"iteration {entry['iteration']}" for entry in iterations])  # fmt: skip
    for low, high in {entry["band"] for entry in iterations if entry["band"]}:
        axis.axvspan(low, high, alpha=0.1)
    axis.set_xlabel("p̂")
    axis.set_ylabel("questions")
    axis.legend()
    save_figure(figure, path)
    return True
