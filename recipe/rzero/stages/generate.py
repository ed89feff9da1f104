"""Stage `generate`: a Challenger checkpoint writes N candidate questions.

Each sample answers the fixed Challenger prompt with `<question>…</question>` and its own
`\\boxed{}` answer. Well-formed, not exactly duplicated questions are kept and written as JSONL
with their provenance (model, per-sample seed, sampling parameters, raw output); the stats file
counts what was dropped and why. Samples are made in resumable chunks, each with its own seed, so
an interrupted run continues where it stopped and produces the same questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rzero_rewards import parse_challenger_output

from ..artifacts import request_seed, write_jsonl
from ..inference_defaults import MAX_TOKENS
from ..prompts import FORMAT_EXAMPLE_HELP, challenger_messages
from ..replicas import ChunkJob
from ..vllm_engine import EngineConfig
from .chunked import ChunkedStage


@dataclass(kw_only=True)
class GenerateConfig(EngineConfig):
    """Parameters of `generate` (defaults: the paper's N = 8000, T = 1.0, top-p 0.95)."""

    output: Path = field(metadata={"help": "JSONL file of kept questions (stats beside it)"})
    num_questions: int = field(default=8000, metadata={"help": "samples to draw (N)"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature"})
    top_p: float = field(default=0.95, metadata={"help": "nucleus sampling"})
    max_tokens: int = field(default=MAX_TOKENS, metadata={"help": "longest Challenger output"})
    seed: int = field(default=0, metadata={"help": "base seed; sample i uses a seed derived from (seed, i)"})
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})
    chunk_size: int = field(default=512, metadata={"help": "samples per resumable chunk"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_questions < 1 or self.chunk_size < 1:
            raise ValueError("num_questions and chunk_size must be positive")


def _question_key(question: str) -> str:
    """Exact-duplicate key: the question with white space folded."""
    return re.sub(r"\s+", " ", question).strip()


def run_generate(config: GenerateConfig) -> dict[str, Any]:
    """Write `config.output` (if not already made by the same invocation); return its stats."""
    stage = ChunkedStage("generate", config, {})
    if (stats := stage.finished_stats()) is not None:
        return stats
    sampling = {"temperature": config.temperature, "top_p": config.top_p, "max_tokens": config.max_tokens}
    store = stage.open(config.num_questions, config.chunk_size)

    def job(index: int) -> ChunkJob:
        indices = range(*store.span(index))
        seeds = [request_seed(config.seed, item) for item in indices]
        return ChunkJob(
            store,
            index,
            [challenger_messages(config.format_example)] * len(indices),
            [{**sampling, "n": 1, "seed": seed} for seed in seeds],
            lambda texts: [
                {"index": item, "seed": seed, "raw_output": outputs[0]}
                for item, seed, outputs in zip(indices, seeds, texts)
            ],
        )

    samples = stage.run(job)
    kept, seen, malformed, duplicates = [], set(), 0, 0
    for record in samples:
        parsed = parse_challenger_output(record["raw_output"])
        if parsed is None:
            malformed += 1
            continue
        question, answer = parsed
        if _question_key(question) in seen:
            duplicates += 1
            continue
        seen.add(_question_key(question))
        kept.append(
            {
                "id": f"q{record['index']:06d}",
                "question": question,
                "challenger_answer": answer,
                "model": config.model,
                "seed": record["seed"],
                "sampling": sampling,
                "raw_output": record["raw_output"],
            }
        )
    stats = {
        "samples": len(samples),
        "malformed": malformed,
        "duplicates": duplicates,
        "kept": len(kept),
        "kept_fraction": len(kept) / len(samples),
    }
    write_jsonl(config.output, kept)
    stage.finish(stats)
    return stats
