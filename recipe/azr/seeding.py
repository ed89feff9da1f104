"""Stage `azr-seed`: the base model fills AZR's task buffers before self-play (the paper's seeding, §3.3.1).

    rzero azr-seed --model M --output seed_buffers.json [--size 256] [--batch-size 64] ...
    # then: python -m recipe.azr.main_azr azr.seed_buffers=seed_buffers.json ...

Starting from the zero triple (Fig. 5), each round the base model (served by vLLM) receives the
self-play step's own proposer chats (`selfplay.propose_requests`: B per task type still short, with K
references drawn from the growing buffers; induction chats about programs drawn from the
deduction and abduction buffers) and its valid proposals (`selfplay.make_proposals`, validated in
the sandbox) join their buffers, until each buffer holds `size` tasks besides the zero triple (the
paper: B x S = 64 x 4 = 256) or `max_rounds` rounds were made. The buffer file is written
atomically after every round together with the round count, so a killed run continues where it
stopped (with the same settings; a larger `size` or `max_rounds` continues a finished one); a
finished one is not run again. The paper seeds one set D_seed for deduction and
abduction and derives the induction buffer from it; here each type grows its own buffer from its own
proposals, the same way self-play grows them. Writes `<output stem>.stats.json` (per round and type:
proposals, valid, failure kinds, buffer size). Raises ValueError when the rounds run out first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipe.rzero.artifacts import request_seed, write_json
from recipe.rzero.prompts import FORMAT_EXAMPLE_HELP
from recipe.rzero.vllm_engine import EngineConfig, chat_completions, make_engine
from rzero_rewards.code import Limits

from .buffers import MAX_SIZE, TASK_TYPES, TaskBuffers
from .selfplay import SelfPlaySettings, make_proposals, propose_requests, validity


@dataclass(kw_only=True)
class SeedConfig(EngineConfig):
    """Parameters of `azr-seed` (sampling as in self-play: T = 1.0, top-p 1.0)."""

    output: Path = field(metadata={"help": "the buffer file to write (azr.seed_buffers); stats beside it"})
    size: int = field(default=256, metadata={"help": "tasks per buffer besides the zero triple (B x S)"})
    batch_size: int = field(default=64, metadata={"help": "proposals per short task type per round (B)"})
    references: int = field(default=6, metadata={"help": "K references per deduction/abduction proposal"})
    induction_inputs: int = field(default=10, metadata={"help": "N inputs per induction proposal"})
    task_types: list[str] = field(default_factory=lambda: list(TASK_TYPES), metadata={"help": "buffers to fill"})
    max_rounds: int = field(default=50, metadata={"help": "give up after this many rounds"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling"})
    max_tokens: int = field(default=8096, metadata={"help": "longest proposal"})
    timeout_s: float = field(default=10.0, metadata={"help": "sandbox seconds per program run"})
    seed: int = field(default=0, metadata={"help": "base seed of the buffers' sampler and of each request"})
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("size", "batch_size", "max_rounds"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")

    def settings(self, task_types: list[str]) -> SelfPlaySettings:
        return SelfPlaySettings(
            batch_size=self.batch_size, references=self.references, induction_inputs=self.induction_inputs,
            task_types=tuple(task_types), format_example=self.format_example, limits=Limits(timeout_s=self.timeout_s),
        )  # fmt: skip


# Settings a seeded buffer file may be continued with when they change (the rest must match).
RESUMABLE = ("size", "max_rounds", "device", "tensor_parallel_size", "gpu_memory_utilization", "max_model_len",
             "enforce_eager")  # fmt: skip


def stats_path(output: Path) -> Path:
    return output.with_name(output.stem + ".stats.json")


def _short(buffers: TaskBuffers, config: SeedConfig) -> list[str]:
    return [t for t in config.task_types if buffers.sizes()[t] < config.size + 1]  # + the zero triple


def run_seed(config: SeedConfig) -> dict[str, Any]:
    """Fill the buffers (continuing a killed run); return the stats also written beside `output`."""
    config.settings(config.task_types)  # an unknown task type fails before the engine starts
    stats_file = stats_path(config.output)
    identity = {key: value for key, value in config.identity_params().items() if key not in RESUMABLE}
    if config.output.is_file() and stats_file.is_file():
        stats = json.loads(stats_file.read_text())
        if stats.get("settings") != identity:
            raise ValueError(
                f"{config.output} was seeded with other settings ({stats.get('settings')}); only "
                f"{', '.join(RESUMABLE)} may change when continuing it: use another --output"
            )
        buffers = TaskBuffers.load(config.output)
    else:
        stats = {"settings": identity, "rounds": []}
        buffers = TaskBuffers.seeded(max(MAX_SIZE, config.size + 1), config.seed)
    if not _short(buffers, config):
        return stats
    engine = make_engine(config, config.seed)
    sampling = {"temperature": config.temperature, "top_p": config.top_p, "max_tokens": config.max_tokens, "n": 1}
    while short := _short(buffers, config):
        round_index = len(stats["rounds"])
        if round_index >= config.max_rounds:
            raise ValueError(
                f"{config.output}: after {round_index} rounds the {', '.join(short)} buffer(s) hold fewer than "
                f"{config.size} tasks ({buffers.sizes()}); raise --max-rounds or lower --size"
            )
        settings = config.settings(short)
        requests = propose_requests(buffers, settings)
        made = sum(counts["proposals"] for record in stats["rounds"] for counts in record["validity"].values())
        seeds = [request_seed(config.seed, made + i) for i in range(len(requests))]  # never one seed twice
        texts = chat_completions(engine, [r.chat for r in requests], [{**sampling, "seed": s} for s in seeds])
        proposals = make_proposals(requests, [t[0] for t in texts], settings)
        for task_type in short:
            buffers.add(task_type, [p.task for p in proposals if p.task is not None and p.request.task_type == task_type])
        stats["rounds"].append({"validity": validity(proposals), "buffer_sizes": buffers.sizes()})
        buffers.save(config.output)
        write_json(stats_file, stats)  # after the buffers: a round counted is a round saved
        print(f"[azr-seed] round {round_index + 1}: buffer sizes {buffers.sizes()}", flush=True)
    return stats
