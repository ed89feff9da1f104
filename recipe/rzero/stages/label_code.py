"""Stage `label-code`: the Solver answers each code task m times; the executor verifies every answer.

The executor-verified R-Zero loop (issue 13, `TASK=code`). Tasks come from `generate-code` (JSONL
with `task_type`, `program`, `input`, `output`). Each gets m sampled Solver answers (T = 1.0) with
AZR's solver prompt of its type; a deduction answer is right when the predicted output equals the
true one as a value, an abduction answer when `f(predicted input)` equals the output, run in the
sandbox (`rzero_rewards.code.check_answers`). The verified success rate s̄ takes the place of the
majority vote's p̂: no pseudo-label is needed, the executor is the label. Tasks with s̄ in the
band (`--keep band`: [low, high], R-Zero's p̂ band by default; `learnable`: 0 < s̄ < 1, AZR's
learnability; `all`) become the Solver's training set, verl RL parquet whose rows carry the task
for `reward_fn.code_solver_compute_score`. Beside it: every task's verdicts (`.verdicts.jsonl`)
and the stats (`.stats.json`: s̄ histogram, kept fraction, per task type).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rzero_rewards import in_band
from rzero_rewards.code import check_answers, parse_solver_answer, task_from_record

from ..artifacts import file_digest, read_jsonl, request_seed, write_jsonl
from ..prompts import FORMAT_EXAMPLE_HELP, code_solver_messages
from ..replicas import ChunkJob
from ..rl_data import PROPOSED_TASK_TYPES, code_solver_row, write_rl_parquet
from .chunked import ChunkedStage
from .label import SolverSamplingConfig


@dataclass(kw_only=True)
class LabelCodeConfig(SolverSamplingConfig):
    """Parameters of `label-code` (defaults: m = 10, T = 1.0, keep s̄ in R-Zero's band [0.3, 0.7])."""

    output: Path = field(metadata={"help": "verl RL parquet of kept tasks (verdicts and stats beside it)"})
    tasks: Path = field(metadata={"help": "JSONL of code tasks (from generate-code)"})
    limit: int | None = field(default=None, metadata={"help": "label only the first N tasks"})
    keep: Literal["band", "learnable", "all"] = field(
        default="band",
        metadata={"help": "band: low <= s-bar <= high (R-Zero); learnable: 0 < s-bar < 1 (AZR); all: every task"},
    )
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not Path(self.tasks).is_file():
            raise FileNotFoundError(f"task file {self.tasks} does not exist")


def verdicts_path(output: Path) -> Path:
    return output.with_name(output.stem + ".verdicts.jsonl")


def load_tasks(config: LabelCodeConfig) -> list[dict[str, Any]]:
    """`{id, task_type, program, input, output, allowed_imports, origin}` records, validated;
    errors name the file and record."""
    tasks = []
    for number, record in enumerate(read_jsonl(config.tasks)[: config.limit], start=1):
        if record.get("task_type") not in PROPOSED_TASK_TYPES:
            raise ValueError(f"{config.tasks}: record {number} has no task_type among {', '.join(PROPOSED_TASK_TYPES)}")
        try:
            task = task_from_record(record)
        except ValueError as error:
            raise ValueError(f"{config.tasks}: record {number}: {error}") from None
        tasks.append(
            {
                "id": str(record.get("id", number)),
                "task_type": record["task_type"],
                "program": task.program,
                "input": task.input,
                "output": task.output,
                "allowed_imports": sorted(task.allowed_imports),
                "origin": record.get("model", str(config.tasks)),
            }
        )
    if not tasks:
        raise ValueError(f"no tasks to label in {config.tasks}")
    return tasks


def is_kept(success_rate: float, config: LabelCodeConfig) -> bool:
    """Whether a task with verified success rate `success_rate` trains the Solver (`config.keep`)."""
    if config.keep == "learnable":
        return 0.0 < success_rate < 1.0
    return config.keep == "all" or in_band(success_rate, config.low, config.high)


def verify_chunk(chunk: list[dict[str, Any]], responses: list[list[str]], config: LabelCodeConfig) -> list[dict]:
    """Each task with its Solver's parsed answers, their verdicts (one sandbox batch for the chunk),
    its success rate s̄ and whether it is kept."""
    answers = [
        [parse_solver_answer(text, record["task_type"]) for text in texts] for record, texts in zip(chunk, responses)
    ]
    checks = [
        (record["task_type"], task_from_record(record), answer)
        for record, mine in zip(chunk, answers)
        for answer in mine
    ]
    verdicts = iter(check_answers(checks))
    results = []
    for record, mine in zip(chunk, answers):
        correct = [next(verdicts) for _ in mine]
        success_rate = sum(correct) / len(correct)
        kept = is_kept(success_rate, config)
        results.append({**record, "answers": mine, "correct": correct, "success_rate": success_rate, "kept": kept})
    return results


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    def counts(subset: list[dict[str, Any]]) -> dict[str, Any]:
        kept = sum(record["kept"] for record in subset)
        return {
            "tasks": len(subset),
            "kept": kept,
            "kept_fraction": kept / len(subset) if subset else None,
            "mean_success_rate": sum(r["success_rate"] for r in subset) / len(subset) if subset else None,
            "unanswered": sum(answer is None for record in subset for answer in record["answers"]),
        }

    histogram = Counter(f"{record['success_rate']:.2f}" for record in records)
    types = sorted({record["task_type"] for record in records})
    return {
        **counts(records),
        "success_rate_histogram": dict(sorted(histogram.items())),
        "by_type": {task_type: counts([r for r in records if r["task_type"] == task_type]) for task_type in types},
    }


def run_label_code(config: LabelCodeConfig) -> dict[str, Any]:
    """Write the Solver's verified training parquet for `config` (unless already made); return the stats."""
    stage = ChunkedStage("label-code", config, {"tasks": file_digest(config.tasks)})
    if (stats := stage.finished_stats()) is not None:
        return stats
    tasks = load_tasks(config)
    store = stage.open(len(tasks), config.chunk_size)
    sampling = config.sampling()

    def job(index: int) -> ChunkJob:
        start, end = store.span(index)
        chunk = tasks[start:end]
        return ChunkJob(
            store,
            index,
            [
                code_solver_messages(task_from_record(record), record["task_type"], config.format_example)
                for record in chunk
            ],
            [{**sampling, "seed": request_seed(config.seed, item)} for item in range(start, end)],
            lambda responses: verify_chunk(chunk, responses, config),
        )

    records = stage.run(job)
    stats = _summary(records)
    kept = [record for record in records if record["kept"]]
    rows = [code_solver_row(index, record, config.format_example) for index, record in enumerate(kept)]
    write_rl_parquet(config.output, rows)
    write_jsonl(verdicts_path(config.output), records)
    stage.finish(stats)
    if not kept:
        print(f"[label-code] warning: no task of {len(records)} was kept (--keep {config.keep})")
    return stats
