"""Compare evaluation runs (base, iteration 1..3): the paper-style table and a bar chart, optionally
beside the scores the paper reports for the same base model (`paper.REPORTED`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..artifacts import atomic_path
from .paper import SOURCE, paper_summaries
from .runner import CODE, GENERAL, MATH_AVERAGE

COLUMNS = [*MATH_AVERAGE, "math_average", *GENERAL, "general_average", "overall_average", *CODE, "code_average"]


def load_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} has no summary.json: is it an evaluation output directory?")
    return json.loads(path.read_text())


def comparison_table(summaries: dict[str, dict[str, Any]]) -> str:
    """Markdown: one row per run, one column per benchmark and average present in any run."""
    present = [c for c in COLUMNS if any(c in s["benchmarks"] or c in s for s in summaries.values())]
    extra = sorted({name for s in summaries.values() for name in s["benchmarks"]} - set(present))
    columns = present + extra
    lines = ["| run | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for label, summary in summaries.items():
        cells = []
        for column in columns:
            value = summary["benchmarks"].get(column, summary.get(column))
            cells.append("—" if value is None else f"{value:.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def compare_runs(run_dirs: list[Path], output: Path, labels: list[str] | None = None, paper: str | None = None) -> str:
    """Write `output`.md (the table) and `output`.png (grouped bars); return the table.

    `paper`: a base model of `paper.REPORTED` (e.g. `Qwen3-4B-Base`); its reported rows follow ours
    in the table, labelled `paper: <run>`, with their source below it (not in the chart).
    """
    labels = labels or [Path(d).name for d in run_dirs]
    if len(labels) != len(run_dirs):
        raise ValueError(f"{len(labels)} labels for {len(run_dirs)} runs")
    summaries = {label: load_summary(d) for label, d in zip(labels, run_dirs)}
    table = comparison_table(summaries | (paper_summaries(paper) if paper else {}))
    if paper:
        table += f"\nRows `paper: …`: {paper} as reported ({SOURCE}).\n"
    output = Path(output)
    with atomic_path(output.with_suffix(".md")) as temporary:
        temporary.write_text(table)
    _plot(summaries, output.with_suffix(".png"))
    return table


def _plot(summaries: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = {name: index for index, name in enumerate(COLUMNS)}
    names = sorted({name for s in summaries.values() for name in s["benchmarks"]}, key=lambda n: (order.get(n, 99), n))
    figure, axes = plt.subplots(figsize=(max(6, 1.2 * len(names)), 4))
    width = 0.8 / len(summaries)
    for offset, (label, summary) in enumerate(summaries.items()):
        values = [summary["benchmarks"].get(name, 0.0) for name in names]
        axes.bar([i + offset * width for i in range(len(names))], values, width, label=label)
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=30, ha="right")
    axes.set_ylabel("accuracy (%)")
    axes.legend()
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120)
    plt.close(figure)
