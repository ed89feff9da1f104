"""Killable worker processes that answer one line per request line, under a hard timeout.

The mechanism behind `is_equivalent` (math-verify in `_verify_worker`) and the code sandbox
(`code._sandbox_worker`). A worker is a separate process started on demand, reused while it
answers in time, and killed when it does not: a request that exceeds its budget returns `None`.
A pool works from any thread, asyncio executor, Ray worker or forked process (a forked child
forgets its parent's workers and starts its own).
"""

from __future__ import annotations

import atexit
import os
import queue
import select
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable

START_TIMEOUT_S = 120.0
SEND_ATTEMPTS = 3  # workers tried for one request that die before it is sent

# What a pool runs: the argv and the complete environment of one worker process.
Launch = Callable[[], tuple[list[str], dict[str, str]]]


def package_parent() -> str:
    """The folder holding the `rzero_rewards` package, for a worker's PYTHONPATH."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Worker:
    """One worker process and its pipes. It must write `ready` once it can take requests."""

    def __init__(self, launch: Launch, name: str) -> None:
        argv, env = launch()
        self._stderr = tempfile.TemporaryFile()  # read only to explain a failed start
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
            start_new_session=True,  # a Ctrl-C in the parent's terminal is the parent's business
        )
        self._pending = b""  # bytes read from the worker beyond the last whole line
        if self._read_line(START_TIMEOUT_S) != "ready":
            if self.alive:
                self.process.kill()
            self.process.wait()
            self._stderr.seek(0)
            error = self._stderr.read().decode(errors="replace").strip()[-2000:]
            self.kill()
            raise RuntimeError(f"the {name} worker did not start ({' '.join(argv)}): {error or 'no error output'}")

    def _read_line(self, timeout_s: float) -> str | None:
        """The next line the worker wrote, or `None` if none came within `timeout_s` (or it died).

        Reads the pipe's bytes directly: a worker may write several lines at once, and a buffered
        reader would hold the later ones where `select` cannot see them.
        """
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._pending:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.process.stdout.fileno(), 1 << 16) if ready else b""
            if not chunk:
                return None
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode(errors="replace").strip()

    def send(self, line: str) -> bool:
        """Write one line to the worker; False when it is dead and so never got it (it is killed)."""
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            return False
        return True

    def exchange(self, line: str, replies: int, timeout_s: float) -> list[str]:
        """Send one line; the worker's next `replies` lines, each within `timeout_s` of the one before.

        Fewer lines come back when the worker ran out of time or died (it is then dead): a worker
        that reports its progress (`_verify_worker`) thereby tells which step hung. None come back
        when it was dead before the line was sent.
        """
        if not self.send(line):
            return []
        return self.read_lines(replies, timeout_s)

    def read_lines(self, replies: int, timeout_s: float) -> list[str]:
        """The worker's next `replies` lines, as in `exchange` (the worker is killed when fewer come)."""
        lines: list[str] = []
        while len(lines) < replies:
            reply = self._read_line(timeout_s)
            if reply is None:
                self.kill()
                break
            lines.append(reply)
        return lines

    def request(self, line: str, timeout_s: float) -> str | None:
        """The worker's one-line reply, or `None` when it ran out of time or died (it is then dead)."""
        replies = self.exchange(line, 1, timeout_s)
        return replies[0] if replies else None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self._stderr):
            try:
                pipe.close()
            except BrokenPipeError:  # stdin still held a line the dead worker never read
                pass


class WorkerPool:
    """Idle workers on a queue; at most `max_workers` exist, started on demand by `launch`."""

    def __init__(self, launch: Launch, max_workers: int, name: str) -> None:
        self.launch = launch
        self.max_workers = max_workers
        self.name = name
        self.forget_inherited()
        atexit.register(self.shutdown)
        os.register_at_fork(after_in_child=self.forget_inherited)

    def _acquire(self) -> Worker:
        """A live worker: an idle one, a new one while fewer than `max_workers` exist, else the next
        one released. A worker that died while idle (killed from outside, e.g. by the OOM killer) is
        replaced, never handed out."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._start()
                if worker is None:
                    worker = self._idle.get()
            if worker is None:  # a dead worker was forgotten: there is room to start one
                continue
            if worker.alive:
                return worker
            worker.kill()
            self._forget(worker)

    def _start(self) -> Worker | None:
        """A new worker, or None when `max_workers` exist."""
        with self._lock:
            may_start = self._started < self.max_workers
            if may_start:
                self._started += 1
        if not may_start:
            return None
        try:
            worker = Worker(self.launch, self.name)
        except BaseException:
            with self._lock:
                self._started -= 1
            self._idle.put(None)
            raise
        with self._lock:
            self._all.append(worker)
        return worker

    def _forget(self, worker: Worker) -> None:
        with self._lock:
            self._started -= 1
            self._all.remove(worker)
        self._idle.put(None)  # wakes a caller waiting for a worker: it may start one now

    def _release(self, worker: Worker) -> None:
        if worker.alive:
            self._idle.put(worker)
        else:
            self._forget(worker)

    def request(self, line: str, timeout_s: float) -> str | None:
        """Send one line to an idle worker; its reply, or `None` after `timeout_s` (worker killed)."""
        replies = self.exchange(line, 1, timeout_s)
        return replies[0] if replies else None

    def exchange(self, line: str, replies: int, timeout_s: float) -> list[str]:
        """Send one line to an idle worker; its next `replies` lines (`Worker.exchange`).

        The line always reaches a worker: when the one handed out dies before it is sent, another
        takes it, so fewer lines mean that the request itself ran out of time or ended a worker.
        Raises RuntimeError when `SEND_ATTEMPTS` workers in a row die before reading it.
        """
        for _ in range(SEND_ATTEMPTS):
            worker = self._acquire()
            try:
                if worker.send(line):
                    return worker.read_lines(replies, timeout_s)
            finally:
                self._release(worker)
        raise RuntimeError(f"{SEND_ATTEMPTS} {self.name} workers in a row died before reading a request")

    def forget_inherited(self) -> None:
        """Start afresh (in a forked child: the parent's workers and pipes are the parent's)."""
        self._idle: queue.LifoQueue[Worker | None] = queue.LifoQueue()  # None: room to start one
        self._lock = threading.Lock()
        self._started = 0
        self._all: list[Worker] = []

    def shutdown(self) -> None:
        """Kill every worker; the next request starts new ones."""
        with self._lock:
            workers, self._all, self._started = self._all, [], 0
        for worker in workers:
            worker.kill()
        self._idle = queue.LifoQueue()
