"""Engine replicas: one stage's chunks spread over several vLLM engines (issue 16).

`generate`, `label` and `evaluate` cut their work into chunks (`artifacts.ChunkStore`). With one
replica the engine runs in this process, as before. With several, each runs in its own process on
its own devices (`EngineConfig.replica_environment`: tensor-parallel-size GPUs each, or a slice of
the cores on CPU) and takes the next chunk whenever it is idle; this process turns each chunk's
texts into records and writes them, so what a replica finished is kept even if another dies.

Same outputs as one engine: a chunk is the same batch of requests with the same per-request seeds
whichever replica runs it (on CPU in fp32 checked equal to one engine's; on GPU as equal as vLLM is
deterministic run to run; vLLM's bf16 kernels on a CPU without AMX let a few samples depend on the
engine's earlier chunks: benchmarks/README.md, engine replicas). A replica that fails or dies stops
the hand-out: the chunks in flight on the others are finished and written, then `ReplicaError` names
the replica, its devices and its chunk; running the stage again resumes from the written chunks.

Each replica process leads its own process group (vLLM's engine-core processes join it), which is
killed as a whole when the stage ends; a replica whose parent dies kills its group itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .artifacts import ChunkStore
from .vllm_engine import EngineConfig, chat_completions, make_engine


class ReplicaError(RuntimeError):
    """An engine replica failed or died; finished chunks are kept."""


@dataclass
class ChunkJob:
    """One chunk of a stage: the requests to generate, and what becomes of the texts.

    `conversations[i]` is sampled with `sampling[i]` (vLLM `SamplingParams` keywords, its `n` the
    number of texts); `finish(texts)` turns the `len(conversations)` lists of texts into the chunk's
    records, stored as chunk `index` of `store`.
    """

    store: ChunkStore
    index: int
    conversations: list[list[dict[str, str]]]
    sampling: list[dict[str, Any]]
    finish: Callable[[list[list[str]]], list[dict[str, Any]]]


def _exit_with_parent(parent: int) -> None:
    """Kill this replica's process group once its parent is gone (it was killed, not stopped)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.killpg(0, signal.SIGKILL)


def _replica_main(config: EngineConfig, seed: int, replica: int, tasks: Any, results: Any) -> None:
    """A replica process: build the engine, then generate each task until told to stop (`None`)."""
    os.setpgrp()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    key = engine = None
    try:
        engine = make_engine(config, seed, replica)
        results.put(("ready", replica, None, None))
        while (task := tasks.get()) is not None:
            key, conversations, sampling = task
            results.put(("done", replica, key, chat_completions(engine, conversations, sampling)))
    except BaseException:  # reported to the parent, which decides; the process then ends
        results.put(("failed", replica, key, traceback.format_exc()))
    finally:
        if engine is not None:
            _shutdown(engine)


def _shutdown(engine: Any) -> None:
    """Stop a vLLM `LLM`'s engine core now (it releases its shared memory), not at garbage collection."""
    engine.llm_engine.engine_core.shutdown()


class EngineReplicas:
    """`config.replica_count()` engines that generate chunks; a context manager.

        with EngineReplicas(config, seed) as replicas:
            for position, texts in replicas.generate(requests): ...

    Engines start on the first `generate` call, so a stage with nothing left to do starts none.
    `chunks_done[r]` counts the chunks replica `r` generated.
    """

    def __init__(self, config: EngineConfig, seed: int) -> None:
        self.config, self.seed = config, seed
        self.count = config.replica_count()
        self.chunks_done = [0] * self.count
        self._engine = None
        self._processes: list[multiprocessing.Process] = []
        self._tasks: list[Any] = []
        self._results: Any = None

    def __enter__(self) -> EngineReplicas:
        return self

    def __exit__(self, exc_type: type | None, *exc_info: object) -> None:
        self.close(wait=exc_type is None)

    def describe(self, replica: int) -> str:
        devices = self.config.replica_environment(replica)
        where = devices.get("CUDA_VISIBLE_DEVICES") or f"cores {devices.get('VLLM_CPU_OMP_THREADS_BIND', 'all')}"
        return f"replica {replica} ({'GPUs ' if 'CUDA_VISIBLE_DEVICES' in devices else ''}{where})"

    def generate(
        self, requests: list[tuple[list[list[dict[str, str]]], list[dict[str, Any]]]]
    ) -> Iterator[tuple[int, list[list[str]]]]:
        """For each `(conversations, sampling)` request, yield `(its position, its texts)` as it finishes."""
        if not requests:
            return
        if self.count == 1:
            self._engine = self._engine or make_engine(self.config, self.seed)
            for position, (conversations, sampling) in enumerate(requests):
                yield position, chat_completions(self._engine, conversations, sampling)
                self.chunks_done[0] += 1
            return
        yield from self._generate_spread(requests)

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._results = context.Queue()
        for replica in range(self.count):
            self.config.replica_environment(replica)  # too few devices: fail before starting any
        for replica in range(self.count):
            tasks = context.Queue()
            process = context.Process(
                target=_replica_main,
                args=(self.config, self.seed, replica, tasks, self._results),
                name=f"rzero-engine-replica-{replica}",
            )
            process.start()
            self._tasks.append(tasks)
            self._processes.append(process)
        waiting = set(range(self.count))
        while waiting:
            kind, replica, _, detail = self._next_message(waiting, {})
            if kind == "failed":
                raise ReplicaError(f"{self.describe(replica)} could not start its engine:\n{detail}")
            waiting.discard(replica)

    def _next_message(self, watched: set[int], in_flight: dict[int, int]) -> tuple[str, int, Any, Any]:
        """The next replica message; a watched replica that died without one is reported as failed."""
        while True:
            try:
                return self._results.get(timeout=1.0)
            except queue.Empty:
                for replica in sorted(watched):
                    if not self._processes[replica].is_alive():
                        code = self._processes[replica].exitcode
                        return "failed", replica, in_flight.get(replica), f"the process died (exit code {code})"

    def _generate_spread(
        self, requests: list[tuple[list[list[dict[str, str]]], list[dict[str, Any]]]]
    ) -> Iterator[tuple[int, list[list[str]]]]:
        if not self._processes:
            self._start()
        pending = list(range(len(requests)))[::-1]
        in_flight: dict[int, int] = {}  # replica -> position of its chunk
        idle = list(range(self.count))
        failure = None
        while in_flight or (pending and failure is None):
            while idle and pending and failure is None:
                replica, position = idle.pop(0), pending.pop()
                self._tasks[replica].put((position, *requests[position]))
                in_flight[replica] = position
            kind, replica, position, detail = self._next_message(set(in_flight), in_flight)
            in_flight.pop(replica, None)
            if kind == "failed":
                failure = failure or (replica, position, detail)
                continue
            self.chunks_done[replica] += 1
            idle.append(replica)
            yield position, detail
        if failure is not None:
            replica, position, detail = failure
            raise ReplicaError(
                f"{self.describe(replica)} failed during request {position} of {len(requests)}; the chunks "
                f"finished by then are written: run the stage again to resume.\n{detail}"
            )

    def close(self, wait: bool = True) -> None:
        """Stop every replica (`wait`: let it leave on its own first) and kill its process group
        (vLLM's own processes included)."""
        if self._engine is not None:
            _shutdown(self._engine)
            self._engine = None
        for tasks, process in zip(self._tasks, self._processes):
            if process.is_alive():
                with contextlib.suppress(Exception):
                    tasks.put(None)
        for process in self._processes:
            process.join(timeout=30 if wait else 0)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            if process.is_alive():
                process.kill()
                process.join()
        self._processes, self._tasks = [], []


def run_chunk_jobs(replicas: EngineReplicas, jobs: list[ChunkJob], description: str) -> None:
    """Generate every job's chunk on `replicas` and store its records as each finishes."""
    from tqdm.auto import tqdm

    with tqdm(total=len(jobs), desc=description, unit="chunk") as progress:
        for position, texts in replicas.generate([(job.conversations, job.sampling) for job in jobs]):
            job = jobs[position]
            job.store.write(job.index, job.finish(texts))
            progress.update()
