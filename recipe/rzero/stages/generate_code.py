"""Stage `generate-code`: a Challenger checkpoint proposes N code tasks, which the executor validates.

The executor-verified R-Zero loop (issue 13, `TASK=code`). Sample i is a deduction or an abduction
proposal (`task_types`, in turn), prompted with AZR's proposer prompt (`rzero_rewards.code.prompts`);
its ```python and ```input blocks are parsed and validated in the sandbox (the program passes the
static check, runs within the limits and returns the same literal twice), which computes the true
output: no majority vote. Valid, not exactly duplicated tasks are written as JSONL with their
provenance (model, per-sample seed, sampling parameters, raw output); every proposal with its
verdict goes to `<stem>.proposals.jsonl`, and the stats give, per task type, the share of proposals
that validate and why the others failed. Resumable chunks and engine replicas as in `generate`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rzero_rewards.code import parse_proposal, task_record, validate_tasks

from ..artifacts import request_seed, write_jsonl
from ..inference_defaults import MAX_TOKENS
from ..prompts import FORMAT_EXAMPLE_HELP, code_proposer_messages
from ..replicas import ChunkJob
from ..rl_data import PROPOSED_TASK_TYPES
from ..vllm_engine import EngineConfig
from .chunked import ChunkedStage


@dataclass(kw_only=True)
class GenerateCodeConfig(EngineConfig):
    """Parameters of `generate-code` (sampling as in `generate`: T = 1.0, top-p 0.95)."""

    output: Path = field(metadata={"help": "JSONL file of valid tasks (proposals and stats beside it)"})
    num_tasks: int = field(default=8000, metadata={"help": "proposals to draw (N)"})
    task_types: list[str] = field(
        default_factory=lambda: list(PROPOSED_TASK_TYPES),
        metadata={"help": "task types proposed in turn (sample i: type i mod their number)"},
    )
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature"})
    top_p: float = field(default=0.95, metadata={"help": "nucleus sampling"})
    max_tokens: int = field(default=MAX_TOKENS, metadata={"help": "longest Challenger output"})
    seed: int = field(default=0, metadata={"help": "base seed; sample i uses a seed derived from (seed, i)"})
    chunk_size: int = field(default=512, metadata={"help": "proposals per resumable chunk"})
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_tasks < 1 or self.chunk_size < 1:
            raise ValueError("num_tasks and chunk_size must be positive")
        if not self.task_types or set(self.task_types) - set(PROPOSED_TASK_TYPES):
            raise ValueError(f"task_types must be some of {', '.join(PROPOSED_TASK_TYPES)}, got {self.task_types}")


def proposals_path(output: Path) -> Path:
    return output.with_name(output.stem + ".proposals.jsonl")


def failure_kind(reason: str) -> str:
    """The kind of a failed proposal: `malformed` (no program or input block), or the sandbox's
    status (`error`, `timeout`, `rejected`, ...) or `not deterministic` from the validation reason."""
    return reason.split(":", 1)[0]


def _validate_chunk(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each proposal record with its verdict: the task's fields when valid, else `reason`."""
    parsed = [parse_proposal(record["raw_output"]) for record in records]
    validations = iter(validate_tasks([proposal for proposal in parsed if proposal is not None]))
    checked = []
    for record, proposal in zip(records, parsed):
        validation = next(validations) if proposal is not None else None
        if validation is None:
            checked.append({**record, "valid": False, "reason": "malformed: no ```python and ```input blocks"})
        elif validation.task is None:
            program, arguments = proposal
            reason = validation.reason
            checked.append({**record, "valid": False, "reason": reason, "program": program, "input": arguments})
        else:
            checked.append({**record, "valid": True, "reason": "", **task_record(validation.task)})
    return checked


def _summary(proposals: list[dict[str, Any]], task_types: list[str]) -> dict[str, Any]:
    by_type = {}
    for task_type in task_types:
        mine = [record for record in proposals if record["task_type"] == task_type]
        valid = sum(record["valid"] for record in mine)
        by_type[task_type] = {
            "proposals": len(mine),
            "valid": valid,
            "valid_fraction": valid / len(mine) if mine else None,
            "duplicates": sum(record.get("duplicate", False) for record in mine),
            "kept": sum(record.get("kept", False) for record in mine),
            "failures": dict(sorted(Counter(failure_kind(r["reason"]) for r in mine if not r["valid"]).items())),
        }
    kept = sum(record.get("kept", False) for record in proposals)
    return {
        "samples": len(proposals),
        "valid": sum(record["valid"] for record in proposals),
        "valid_fraction": sum(record["valid"] for record in proposals) / len(proposals),
        "kept": kept,
        "kept_fraction": kept / len(proposals),
        "by_type": by_type,
    }


def run_generate_code(config: GenerateCodeConfig) -> dict[str, Any]:
    """Write `config.output` (if not already made by the same invocation); return its stats."""
    stage = ChunkedStage("generate-code", config, {})
    if (stats := stage.finished_stats()) is not None:
        return stats
    stage.open(config.num_tasks, config.chunk_size)
    sampling = {"temperature": config.temperature, "top_p": config.top_p, "max_tokens": config.max_tokens}

    def job(index: int) -> ChunkJob:
        indices = range(*stage.store.span(index))
        seeds = [request_seed(config.seed, item) for item in indices]
        types = [config.task_types[item % len(config.task_types)] for item in indices]
        return ChunkJob(
            stage.store,
            index,
            [code_proposer_messages(task_type, format_example=config.format_example) for task_type in types],
            [{**sampling, "n": 1, "seed": seed} for seed in seeds],
            lambda texts: _validate_chunk(
                [
                    {"index": item, "task_type": task_type, "seed": seed, "raw_output": outputs[0]}
                    for item, task_type, seed, outputs in zip(indices, types, seeds, texts)
                ]
            ),
        )

    proposals = stage.run(job)
    kept, seen = [], set()
    for record in proposals:
        key = (record["task_type"], record.get("program"), record.get("input"))
        record["duplicate"] = record["valid"] and key in seen
        record["kept"] = record["valid"] and not record["duplicate"]
        seen.add(key)
        if record["kept"]:
            task = {key: record[key] for key in ("program", "input", "output", "allowed_imports")}
            kept.append(
                {
                    "id": f"c{record['index']:06d}",
                    "task_type": record["task_type"],
                    **task,
                    "model": config.model,
                    "seed": record["seed"],
                    "sampling": sampling,
                    "raw_output": record["raw_output"],
                }
            )
    stats = _summary(proposals, config.task_types)
    write_jsonl(config.output, kept)
    write_jsonl(proposals_path(config.output), proposals)
    stage.finish(stats)
    return stats
