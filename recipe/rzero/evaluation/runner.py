"""Evaluate a checkpoint on the R-Zero and code benchmarks with vLLM engine replicas, or self-check the graders.

Per benchmark, `OUTPUT/<benchmark>/samples.jsonl` (prompt, response, extracted answer, gold,
correct), `summary.json` and a manifest are written atomically once the benchmark is finished; a
re-run skips finished benchmarks and refuses to overwrite results made with other settings.
`OUTPUT/summary.json` and `OUTPUT/results.md` hold the paper-style averages.

Decoding: greedy for the large sets (pass@1 for the code benchmarks); mean@k (k = 32, T = 0.6,
top-p 0.95) for AIME and AMC.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifacts import (
    ChunkStore,
    StageManifest,
    atomic_path,
    model_fingerprint,
    request_seed,
    write_json,
    write_jsonl,
)
from ..inference_defaults import MAX_TOKENS
from ..prompts import FORMAT_EXAMPLE_HELP, LAST_NUMBER_HELP, solver_messages
from ..replicas import ChunkJob, EngineReplicas, run_chunk_jobs
from ..vllm_engine import EngineConfig
from .code_prompts import CRUXEVAL_SYSTEM_PROMPT
from .datasets import BENCHMARKS, EvalItem, load_benchmark
from .grading import grade, reference_response

# The paper's averages: math over these seven, "overall" over math avg and the three general sets.
MATH_AVERAGE = ("amc23", "minerva", "math500", "gsm8k", "olympiadbench", "aime24", "aime25")
GENERAL = ("supergpqa", "mmlu_pro", "bbeh")
# Ours, beside them (not in "overall"): the code benchmarks, as AZR reports them.
CODE = ("cruxeval_o", "cruxeval_i", "humaneval")
CHOICE_INSTRUCTION = "\n\nGive the letter of the correct option inside \\boxed{}, for example \\boxed{A}."


@dataclass(kw_only=True)
class EvaluateConfig(EngineConfig):
    """Parameters of an evaluation run."""

    output_dir: Path = field(metadata={"help": "directory for per-benchmark results and the summary"})
    benchmarks: list[str] = field(default_factory=lambda: list(BENCHMARKS), metadata={"help": "benchmarks to run"})
    data_dir: Path | None = field(default=None, metadata={"help": "local benchmark files; default: the hub"})
    limit: int | None = field(default=None, metadata={"help": "first N items of each benchmark"})
    max_tokens: int = field(default=MAX_TOKENS, metadata={"help": "longest response"})
    sampled_benchmarks: list[str] = field(
        default_factory=lambda: ["aime24", "aime25", "amc23", "amc83"], metadata={"help": "reported as mean@k"}
    )
    samples_k: int = field(default=32, metadata={"help": "k of mean@k"})
    sampled_temperature: float = field(default=0.6, metadata={"help": "temperature of mean@k sampling"})
    sampled_top_p: float = field(default=0.95, metadata={"help": "top-p of mean@k sampling"})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})
    last_number_fallback: bool = field(default=False, metadata={"help": LAST_NUMBER_HELP})
    chunk_size: int = field(
        default=256, metadata={"help": "samples per resumable chunk (chunk_size // samples-per-item items)"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {self.chunk_size}")
        unknown = [name for name in self.benchmarks + self.sampled_benchmarks if name not in BENCHMARKS]
        if unknown:
            raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        if self.data_dir is not None and not Path(self.data_dir).is_dir():
            raise FileNotFoundError(f"data directory {self.data_dir} does not exist")


def item_messages(item: EvalItem, format_example: bool = False) -> list[dict[str, str]]:
    """The chat for one item: the Solver's system prompt; multiple choice asks for a boxed letter.
    The code benchmarks use their own prompts (`code_prompts`; `format_example` does not apply):
    CRUXEval with its system prompt, HumanEval as the user's turn alone."""
    if item.kind in ("output_prediction", "input_prediction"):
        return [{"role": "system", "content": CRUXEVAL_SYSTEM_PROMPT}, {"role": "user", "content": item.question}]
    if item.kind == "code_generation":
        return [{"role": "user", "content": item.question}]
    return solver_messages(item.question + (CHOICE_INSTRUCTION if item.kind == "choice" else ""), format_example)


def _graded_records(
    items: list[EvalItem], responses: list[list[str]], last_number_fallback: bool = False
) -> list[dict[str, Any]]:
    def grade_item(pair: tuple[EvalItem, list[str]]) -> list[dict[str, Any]]:
        item, texts = pair
        records = []
        for sample, text in enumerate(texts):
            result = grade(item, text, last_number_fallback)
            records.append(
                {
                    "id": item.id,
                    "sample": sample,
                    "prompt": item_messages(item)[-1]["content"],
                    "response": text,
                    "extracted": result.extracted,
                    "gold": list(item.answers),
                    "correct": result.correct,
                }
            )
        return records

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return [record for records in pool.map(grade_item, zip(items, responses)) for record in records]


def _benchmark_summary(name: str, records: list[dict[str, Any]], samples: int) -> dict[str, Any]:
    per_item: dict[str, list[bool]] = {}
    for record in records:
        per_item.setdefault(record["id"], []).append(record["correct"])
    return {
        "benchmark": name,
        "group": BENCHMARKS[name].group,
        "items": len(per_item),
        "samples_per_item": samples,
        # mean@k: the mean over items of each item's share of correct samples (k = 1: accuracy).
        "accuracy": sum(sum(v) / len(v) for v in per_item.values()) / max(1, len(per_item)),
        "unparsed": sum(record["extracted"] is None for record in records),
    }


def overall_summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-benchmark accuracy (%), the paper's averages and the code average over the benchmarks present."""
    scores = {name: 100.0 * result["accuracy"] for name, result in results.items()}
    summary: dict[str, Any] = {"benchmarks": scores}
    math = [scores[name] for name in MATH_AVERAGE if name in scores]
    general = [scores[name] for name in GENERAL if name in scores]
    code = [scores[name] for name in CODE if name in scores]
    if math:
        summary["math_average"] = sum(math) / len(math)
        summary["math_average_complete"] = len(math) == len(MATH_AVERAGE)
    if general:
        summary["general_average"] = sum(general) / len(general)
    if math and len(general) == len(GENERAL):
        summary["overall_average"] = (summary["math_average"] + sum(general)) / (1 + len(general))
    if code:
        summary["code_average"] = sum(code) / len(code)
    return summary


def write_results(output_dir: Path, results: dict[str, dict[str, Any]], title: str) -> dict[str, Any]:
    summary = overall_summary(results) | {"title": title, "details": results}
    write_json(output_dir / "summary.json", summary)
    lines = [f"# {title}", "", "| benchmark | items | samples/item | accuracy (%) | unparsed |", "|---|---|---|---|---|"]
    for name, result in results.items():
        lines.append(
            f"| {name} | {result['items']} | {result['samples_per_item']} | {100 * result['accuracy']:.2f} "
            f"| {result['unparsed']} |"
        )
    groups = {"math_average": MATH_AVERAGE, "general_average": GENERAL, "code_average": CODE}
    for key in ("math_average", "general_average", "overall_average", "code_average"):
        if key in summary:
            label = key.replace("_", " ")
            members = groups.get(key, ())
            present = sum(name in results for name in members)
            if present < len(members):
                label += f" (partial: {present} of {len(members)})"
            lines.append(f"| **{label}** | | | {summary[key]:.2f} | |")
    with atomic_path(output_dir / "results.md") as temporary:
        temporary.write_text("\n".join(lines) + "\n")
    return summary


def _chunk_job(
    store: ChunkStore, index: int, items: list[EvalItem], sampling: dict[str, Any], config: EvaluateConfig
) -> ChunkJob:
    start, end = store.span(index)
    return ChunkJob(
        store,
        index,
        [item_messages(item, config.format_example) for item in items[start:end]],
        [sampling | {"seed": request_seed(config.seed, item)} for item in range(start, end)],
        lambda responses: _graded_records(items[start:end], responses, config.last_number_fallback),
    )


def run_evaluate(config: EvaluateConfig) -> dict[str, Any]:
    """Evaluate `config.model` on `config.benchmarks`; returns the overall summary.

    Every unfinished benchmark's chunks go to one set of engine replicas at once, so all of them
    stay busy across benchmarks; a benchmark's results are written when all its chunks are done."""
    datasets = {name: load_benchmark(name, config.data_dir, config.limit) for name in config.benchmarks}
    results: dict[str, dict[str, Any]] = {}
    pending, jobs = [], []
    for name, items in datasets.items():
        sampled = name in config.sampled_benchmarks
        samples = config.samples_k if sampled else 1
        sampling = (
            {"n": samples, "temperature": config.sampled_temperature, "top_p": config.sampled_top_p}
            if sampled
            else {"n": 1, "temperature": 0.0}
        ) | {"max_tokens": config.max_tokens}
        if BENCHMARKS[name].stop:
            sampling["stop"] = list(BENCHMARKS[name].stop)
        params = {
            "sampling": sampling,
            "seed": config.seed,
            "format_example": config.format_example,
            "last_number_fallback": config.last_number_fallback,
            "limit": config.limit,
            "data_dir": config.data_dir,
            "engine": config.engine_kwargs(config.seed),
        }
        manifest = StageManifest(f"evaluate:{name}", params, {"model": model_fingerprint(config.model)})
        directory = config.output_dir / name
        if manifest.is_done(directory / "samples.jsonl"):
            results[name] = json.loads((directory / "summary.json").read_text())
            print(f"[evaluate] {name}: done earlier, {100 * results[name]['accuracy']:.2f}%")
            continue
        identity = {"params": params, **manifest.inputs}
        store = ChunkStore(
            directory / "samples.jsonl.chunks", identity, len(items), max(1, config.chunk_size // samples)
        )
        pending.append((name, samples, store, manifest))
        jobs += [_chunk_job(store, index, items, sampling, config) for index in store.missing()]
    with EngineReplicas(config, config.seed) as replicas:
        run_chunk_jobs(replicas, jobs, "evaluate")
    for name, samples, store, manifest in pending:
        records = store.records()
        results[name] = _benchmark_summary(name, records, samples)
        directory = config.output_dir / name
        write_jsonl(directory / "samples.jsonl", records)
        write_json(directory / "summary.json", results[name])
        manifest.record(directory / "samples.jsonl", chunks_by_replica=replicas.chunks_done)
        store.remove()
        print(f"[evaluate] {name}: {100 * results[name]['accuracy']:.2f}% ({store.total} items × {samples})")
    notes = [flag for flag, on in (("--format-example", config.format_example),
                                   ("--last-number-fallback", config.last_number_fallback)) if on]  # fmt: skip
    results = {name: results[name] for name in datasets}
    return write_results(config.output_dir, results, config.model + (f" ({', '.join(notes)})" if notes else ""))


@dataclass(kw_only=True)
class SelfCheckConfig:
    """Grade every item's own reference as the response: the graders must accept their own answers."""

    output_dir: Path = field(metadata={"help": "where to write the self-check results"})
    data_dir: Path | None = field(default=None, metadata={"help": "local benchmark files; default: the hub"})
    benchmarks: list[str] = field(default_factory=lambda: list(BENCHMARKS), metadata={"help": "benchmarks"})
    minimum: float = field(default=0.99, metadata={"help": "required accuracy on every math benchmark"})


def run_self_check(config: SelfCheckConfig) -> dict[str, Any]:
    """Write the self-check results; raise `ValueError` listing the items of any failing math benchmark
    (below `minimum`) or code benchmark (below 100%: its references are run, so every one must pass)."""
    results, failures = {}, {}
    for name in config.benchmarks:
        items = load_benchmark(name, config.data_dir)
        records = _graded_records(items, [[reference_response(item)] for item in items])
        results[name] = _benchmark_summary(name, records, 1)
        failed = [{"id": r["id"], "extracted": r["extracted"], "gold": r["gold"]} for r in records if not r["correct"]]
        write_jsonl(config.output_dir / name / "ungraded.jsonl", failed)
        spec = BENCHMARKS[name]
        required = config.minimum if spec.kind == "math" else 1.0 if spec.group == "code" else 0.0
        if results[name]["accuracy"] < required:
            failures[name] = failed
    summary = write_results(config.output_dir, results, "self-check: each item's reference graded as the response")
    if failures:
        listing = "; ".join(
            f"{name}: ids {', '.join(f['id'] for f in failed[:20])}" for name, failed in failures.items()
        )
        raise ValueError(f"self-check below {config.minimum:.0%} (math) or 100% (code): {listing}")
    return summary
