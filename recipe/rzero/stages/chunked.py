"""What every sampling stage does around its own work: the manifest, the resumable chunks, the replicas.

    stage = ChunkedStage("label", config, {"questions": digest})
    if (stats := stage.finished_stats()) is not None:
        return stats                                # made by this very invocation: a no-op
    stage.open(len(items), config.chunk_size)       # finished chunks of an interrupted run are kept
    records = stage.run(job)                        # job(index) -> ChunkJob; every chunk's records
    ...                                             # write the outputs atomically
    stage.finish(stats)                             # the stats, the manifest; the chunks are removed

`config` is an `EngineConfig` with `output` and `seed`; the manifest holds its identity parameters,
the model's fingerprint and `inputs`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..artifacts import ChunkStore, StageManifest, model_fingerprint, stats_path, write_json
from ..replicas import ChunkJob, EngineReplicas, run_chunk_jobs


class ChunkedStage:
    """One run of a stage that samples in resumable chunks on engine replicas."""

    def __init__(self, name: str, config: Any, inputs: dict[str, str]) -> None:
        self.name, self.config, self.output = name, config, config.output
        self.params = config.identity_params()
        self.manifest = StageManifest(name, self.params, {"model": model_fingerprint(config.model), **inputs})
        self.store: ChunkStore | None = None
        self.chunks_by_replica: list[int] = []

    def finished_stats(self) -> dict[str, Any] | None:
        """The stats of the output when this very invocation already made it, else None (raises
        `StageMismatchError` when another one made it)."""
        if not self.manifest.is_done(self.output):
            return None
        print(f"[{self.name}] {self.output} is up to date")
        return json.loads(stats_path(self.output).read_text())

    def open(self, total: int, chunk_size: int) -> ChunkStore:
        """The chunk store of `total` items beside the output (`<output>.chunks`)."""
        self.store = ChunkStore(
            self.output.with_name(self.output.name + ".chunks"),
            {"params": self.params, **self.manifest.inputs},
            total,
            chunk_size,
        )
        return self.store

    def run(self, job: Callable[[int], ChunkJob]) -> list[dict[str, Any]]:
        """Make the missing chunks (`job(index)`) on the config's engine replicas; every chunk's records."""
        with EngineReplicas(self.config, self.config.seed) as replicas:
            run_chunk_jobs(replicas, [job(index) for index in self.store.missing()], self.name)
        self.chunks_by_replica = replicas.chunks_done
        return self.store.records()

    def finish(self, stats: dict[str, Any]) -> None:
        """Write `stats` beside the output (`<stem>.stats.json`), record the manifest of the written
        output, and remove the chunks."""
        write_json(stats_path(self.output), stats)
        self.manifest.record(self.output, stats=stats, chunks_by_replica=self.chunks_by_replica)
        self.store.remove()
        print(f"[{self.name}] {self.output}: {json.dumps(stats)}")
