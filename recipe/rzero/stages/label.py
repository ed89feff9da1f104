"""Stage `label`: the Solver answers each question m times; the majority answer becomes its label.

Questions come from `generate` (JSONL) or from a benchmark with real answers. Each question gets
m sampled Solver answers (T = 1.0), a majority-vote pseudo-label and its agreement p̂; questions
with p̂ in [low, high] (3..7 of 10 by default) become the Solver's training set, written as verl RL
parquet. Beside it: every question's votes (`.votes.jsonl`) and the stats (`.stats.json`: p̂
histogram, kept fraction, answer-comparison timeouts and, where real answers exist, the accuracy
of the pseudo-labels, which the paper tracks from 79% down to 63% over iterations).
"""

from __future__ import annotations

import concurrent.futures
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rzero_rewards import equivalence_stats, extract_answer, in_band, is_equivalent, majority_vote

from ..artifacts import file_digest, read_jsonl, request_seed, write_jsonl
from ..evaluation.datasets import load_benchmark
from ..inference_defaults import MAX_TOKENS, P_HAT_BAND, SOLVER_SAMPLES
from ..prompts import FORMAT_EXAMPLE_HELP, LAST_NUMBER_HELP, solver_messages
from ..replicas import ChunkJob
from ..rl_data import solver_row, write_rl_parquet
from ..vllm_engine import EngineConfig
from .chunked import ChunkedStage


@dataclass(kw_only=True)
class SolverSamplingConfig(EngineConfig):
    """The Solver's m sampled answers per item and the band that keeps an item: the settings both
    labelling stages share (`label`: p̂ of the majority vote; `label-code`: the verified s̄)."""

    samples: int = field(default=SOLVER_SAMPLES, metadata={"help": "Solver answers per item (m)"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling"})
    top_k: int = field(default=-1, metadata={"help": "top-k sampling; -1 disables it"})
    max_tokens: int = field(default=MAX_TOKENS, metadata={"help": "longest Solver answer"})
    seed: int = field(default=0, metadata={"help": "base seed; item i uses a seed derived from (seed, i)"})
    low: float = field(default=P_HAT_BAND[0], metadata={"help": "keep items with p-hat (s-bar) >= low"})
    high: float = field(default=P_HAT_BAND[1], metadata={"help": "keep items with p-hat (s-bar) <= high"})
    chunk_size: int = field(default=256, metadata={"help": "items per resumable chunk"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.samples < 1 or self.chunk_size < 1:
            raise ValueError("samples and chunk_size must be positive")
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise ValueError(f"need 0 <= low <= high <= 1, got low={self.low}, high={self.high}")

    def sampling(self) -> dict[str, Any]:
        """vLLM `SamplingParams` keywords of one item's m answers (its seed added per request)."""
        return {"n": self.samples, "temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k,
                "max_tokens": self.max_tokens}  # fmt: skip


@dataclass(kw_only=True)
class LabelConfig(SolverSamplingConfig):
    """Parameters of `label` (defaults: the paper's m = 10, T = 1.0, keep 3..7 of 10)."""

    output: Path = field(metadata={"help": "verl RL parquet of kept questions (votes and stats beside it)"})
    questions: Path | None = field(default=None, metadata={"help": "JSONL with a 'question' per line (from generate)"})
    benchmark: str | None = field(default=None, metadata={"help": "label a benchmark instead (it has real answers)"})
    data_dir: Path | None = field(default=None, metadata={"help": "local benchmark files; default: the hub"})
    limit: int | None = field(default=None, metadata={"help": "label only the first N questions"})
    gold: bool = field(default=False, metadata={"help": "require real answers and report pseudo-label accuracy"})
    filter: bool = field(default=True, metadata={"help": "apply the p-hat band (--no-filter keeps every labelled one)"})
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})
    last_number_fallback: bool = field(default=False, metadata={"help": LAST_NUMBER_HELP})

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.questions is None) == (self.benchmark is None):
            raise ValueError("give exactly one of --questions and --benchmark")
        if self.questions is not None and not Path(self.questions).is_file():
            raise FileNotFoundError(f"question file {self.questions} does not exist")


def votes_path(output: Path) -> Path:
    return output.with_name(output.stem + ".votes.jsonl")


def load_questions(config: LabelConfig) -> list[dict[str, Any]]:
    """`{id, question, origin, gold}` records, validated; errors name the file and line."""
    if config.benchmark is not None:
        items = load_benchmark(config.benchmark, config.data_dir, config.limit)
        return [
            {"id": item.id, "question": item.question, "origin": item.benchmark, "gold": list(item.answers)}
            for item in items
        ]
    records = read_jsonl(config.questions)[: config.limit]
    questions = []
    for number, record in enumerate(records, start=1):
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise ValueError(f"{config.questions}: record {number} has no non-empty 'question' string")
        gold = record.get("gold")
        questions.append(
            {
                "id": str(record.get("id", number)),
                "question": question,
                "origin": record.get("model", str(config.questions)),
                "gold": [gold] if isinstance(gold, str) else gold,
            }
        )
    if config.gold and any(not record["gold"] for record in questions):
        raise ValueError(f"--gold: {config.questions} has questions without a 'gold' answer")
    if not questions:
        raise ValueError(f"no questions to label in {config.questions or config.benchmark}")
    return questions


def _vote(record: dict[str, Any], responses: list[str], config: LabelConfig) -> dict[str, Any]:
    answers = [extract_answer(response, config.last_number_fallback) for response in responses]
    vote = majority_vote(answers)
    kept = vote.label is not None and (not config.filter or in_band(vote.p_hat, config.low, config.high))
    result = {**record, "answers": answers, "label": vote.label, "p_hat": vote.p_hat, "counts": vote.counts}
    result["kept"] = kept
    if record["gold"]:
        result["label_correct"] = any(is_equivalent(vote.label, gold) for gold in record["gold"])
    return result


def _summary(records: list[dict[str, Any]], timeouts: int) -> dict[str, Any]:
    histogram = Counter(f"{record['p_hat']:.2f}" for record in records)
    kept = [record for record in records if record["kept"]]
    stats: dict[str, Any] = {
        "questions": len(records),
        "kept": len(kept),
        "kept_fraction": len(kept) / len(records),
        "no_label": sum(record["label"] is None for record in records),
        "p_hat_histogram": dict(sorted(histogram.items())),
        "answer_comparison_timeouts": timeouts,
    }
    if any("label_correct" in record for record in records):
        # Share of labelled questions whose pseudo-label equals the real answer (None: nothing labelled).
        for key, subset in (("pseudo_label_accuracy", records), ("pseudo_label_accuracy_kept", kept)):
            graded = [record["label_correct"] for record in subset if record["label"] is not None]
            stats[key] = sum(graded) / len(graded) if graded else None
    return stats


def run_label(config: LabelConfig) -> dict[str, Any]:
    """Write the Solver's training parquet for `config` (unless already made); return the stats."""
    source = file_digest(config.questions) if config.questions else f"benchmark:{config.benchmark}"
    stage = ChunkedStage("label", config, {"questions": source})
    if (stats := stage.finished_stats()) is not None:
        return stats
    questions = load_questions(config)
    sampling = config.sampling()
    store = stage.open(len(questions), config.chunk_size)
    timeouts_before = equivalence_stats().get("timeouts", 0)

    def vote_chunk(chunk: list[dict[str, Any]], responses: list[list[str]]) -> list[dict[str, Any]]:
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return list(pool.map(lambda pair: _vote(pair[0], pair[1], config), zip(chunk, responses)))

    def job(index: int) -> ChunkJob:
        start, end = store.span(index)
        chunk = questions[start:end]
        return ChunkJob(
            store,
            index,
            [solver_messages(record["question"], config.format_example) for record in chunk],
            [{**sampling, "seed": request_seed(config.seed, item)} for item in range(start, end)],
            lambda responses: vote_chunk(chunk, responses),
        )

    records = stage.run(job)
    stats = _summary(records, equivalence_stats().get("timeouts", 0) - timeouts_before)
    kept = [record for record in records if record["kept"]]
    rows = [solver_row(index, record, config.format_example) for index, record in enumerate(kept)]
    write_rl_parquet(config.output, rows)
    write_jsonl(votes_path(config.output), records)
    if not kept:
        print(f"[label] warning: no question of {len(records)} fell in the p-hat band [{config.low}, {config.high}]")
    stage.finish(stats)
    return stats
