"""Run model-written Python under hard limits and return its result as a Python literal (issue 13).

`run_function(program, arguments)` checks the program statically (`policy.check_program`), runs
`f(<arguments>)` in a fresh, locked-down process and returns an `Execution`: status `"ok"` with the
return value as a literal (`output` is its `repr`, `value` the `ast.literal_eval` of that), or a
clear failure verdict. `run_functions` runs a batch concurrently. Both work from any thread,
asyncio executor, Ray worker or forked process: the programs run in killable worker processes
(`_worker_pool`), as math-verify does for `is_equivalent`.

What isolates a program, outermost first:

1. bubblewrap (`bwrap`, Debian's `bubblewrap`) starts each worker in new PID, network, IPC, UTS
   and cgroup namespaces, with the whole filesystem mounted read-only, a private 64 MiB tmpfs on
   `/tmp`, a fresh `/dev` and `/proc` and a cleared environment; it exits when its caller does
   (its stdin closes), after the run in progress.
   Set `RZERO_SANDBOX_NAMESPACES=0` to run without it where namespaces cannot be made (e.g. a
   default Docker container); every other layer stays.
2. The worker forks a child per run; the child, before any model code, starts its own session,
   replaces stdin/stdout/stderr with /dev/null, closes every other inherited descriptor, clears
   its environment, enters a throw-away directory, sets resource limits (CPU seconds, address
   space `memory_mb`, 1 MiB per written file, 32 open files, no core dumps, no new processes),
   becomes `nobody` (uid 65534, no capabilities) when started as root, and loads a seccomp filter
   (libseccomp, through `pyseccomp`) that denies fork/clone, exec, sockets, signals to other
   processes, namespaces, mounts, tracing and the kernel's administrative calls.
3. The worker kills the child's process group at the wall-clock deadline or when its reply
   grows past the output cap, and removes its directory.
4. The program sees built-ins without `open`, `eval`, `exec`, `getattr`, ... and an `__import__`
   limited to the allow-list; allowed modules are imported by the worker beforehand.
5. The static check (`policy.check_program`) rejects disallowed imports and the escapes we know
   (dunder attributes, attribute lookup by string, frames, string annotations run as code) before
   anything runs; it is AZR's validity rule and a deny-list, not a security boundary on its own.

The verdict is only as trustworthy as the Python layer (4 and 5). The program runs in the same
process as the code that writes its reply, so a program that escapes that layer (reaches `os`, or
the child's frames and memory) controls its own verdict: it can make a failing test script come
back `ok`, a reward hack. The worker makes the blind version of that fail: when the program has
finished, the child writes `finished`, only then does the worker send a fresh random nonce on a
second pipe, and a reply without it is `crashed` (a program that writes an `ok` reply into the pipe
and exits never saw the nonce). It cannot make the informed version fail: an escaped program can
do the same handshake, or patch the code that checks its result, and its exit status proves
nothing (it can call `os._exit(0)`). The process layers (1 to 3) still protect the machine from it.

What it does not protect against: a kernel bug reachable through the allowed system calls (the
filter is a deny-list: plain file reads, memory and time calls stay allowed); reading
world-readable files (the project's code, `/etc`, the Python installation); spending its CPU and
memory budget (up to `memory_mb` per concurrent run) and up to 64 MiB of RAM in `/tmp`; side
channels such as timing. Without bubblewrap it can also see other processes, write in
world-writable directories (`/tmp`) and use the network namespace (not sockets: the filter denies
them). When not started as root it runs as the calling user and can read and write that user's
files. Results are reproducible across processes: workers run with `PYTHONHASHSEED=0`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .._worker_pool import WorkerPool, package_parent
from .literals import LITERAL_ERRORS, literal_value, parse_arguments
from .policy import ALLOWED_IMPORTS, check_program

# What an `Execution` can report. Every status but "ok" is a failure.
STATUSES = (
    "ok",  # the program returned a literal; `output` and `value` hold it
    "rejected",  # the static check refused the program (`detail` says why); nothing ran
    "bad_input",  # the arguments are not a list of Python literals; nothing ran
    "error",  # the program raised (`detail`: exception type and message), SystemExit included
    "timeout",  # wall-clock or CPU-time limit
    "memory",  # MemoryError at the address-space limit
    "output_limit",  # the repr of the result is longer than `output_bytes` characters
    "not_literal",  # the result is not a Python literal (a function, an object, nan, ...)
    "crashed",  # the process died otherwise (e.g. a C stack overflow), or the worker did not answer
)

TMPFS_BYTES = 64 << 20
_WORKER_MARGIN_S = 30.0  # on top of a run's own deadline, before the worker itself is killed


@dataclass(frozen=True)
class Limits:
    """Per-run limits. `timeout_s`: wall-clock seconds (CPU time is capped at its ceiling);
    `memory_mb`: the child's address space in MiB, interpreter included (about 60 MiB);
    `output_bytes`: the longest `repr` of a result, in characters."""

    timeout_s: float = 5.0
    memory_mb: int = 1024
    output_bytes: int = 1 << 16


@dataclass(frozen=True)
class Execution:
    """The verdict of one run: `status` (one of `STATUSES`), `output` (the `repr` of the returned
    value when ok), `value` (the literal itself when ok, else None) and `detail` (why it failed)."""

    status: str
    output: str | None = None
    value: Any = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _launch_sandbox_worker() -> tuple[list[str], dict[str, str]]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": package_parent(), "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
    worker = [sys.executable, "-s", "-m", "rzero_rewards.code._sandbox_worker"]
    if os.environ.get("RZERO_SANDBOX_NAMESPACES", "1") == "0":
        return worker, env
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise RuntimeError(
            "the code sandbox needs bubblewrap (`apt-get install bubblewrap`); or set RZERO_SANDBOX_NAMESPACES=0 "
            "to run without namespaces (weaker: see rzero_rewards/code/sandbox.py)"
        )
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    argv += ["--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    for path in sorted({package_parent(), sys.prefix, sys.base_prefix}):  # in case they live under /tmp
        argv += ["--ro-bind", path, path]
    argv += ["--unshare-ipc", "--unshare-net", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    # No --die-with-parent: its signal follows the *thread* that started bwrap, and pool workers
    # outlive the threads that start them. A worker ends when its stdin closes instead.
    argv += ["--new-session", "--clearenv", "--chdir", "/tmp"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + worker, env


_pool = WorkerPool(
    _launch_sandbox_worker, int(os.environ.get("RZERO_SANDBOX_WORKERS", os.cpu_count() or 1)), "code sandbox"
)


def run_function(
    program: str,
    arguments: str | None,
    *,
    entry: str | None = "f",
    limits: Limits = Limits(),
    allowed_imports: frozenset[str] = ALLOWED_IMPORTS,
    allowed_builtins: frozenset[str] = frozenset(),
) -> Execution:
    """Run `program`, then `entry(<arguments>)`, in the sandbox; the verdict.

    `arguments` is the text of a call's arguments, each a Python literal (`"'abc', [1, 2], k=3"`),
    as AZR writes inputs. With `entry=None` the program only runs (e.g. a test script of asserts)
    and `arguments` must be None; `value` is then None when it finishes. `allowed_builtins` gives
    back some of `policy.FORBIDDEN_BUILTINS` (e.g. `eval`) to trusted benchmark code; the process
    isolation is unchanged. Raises ValueError for arguments without an entry and for built-ins
    that cannot be given back.

    >>> run_function("def f(xs):\\n    return sorted(xs)[::-1]", "[3, 1, 2]").value
    [3, 2, 1]
    >>> run_function("import os\\ndef f(): return os.getcwd()", "").status
    'rejected'
    """
    if entry is None and arguments is not None:
        raise ValueError("arguments need an entry function")
    reason = check_program(program, allowed_imports, allowed_builtins)
    if reason:
        return Execution("rejected", detail=reason)
    if arguments is not None:
        try:
            parse_arguments(arguments)
        except ValueError as error:
            return Execution("bad_input", detail=str(error))
    request = {
        "program": program,
        "entry": entry,
        "arguments": arguments,
        "timeout_s": limits.timeout_s,
        "memory_mb": limits.memory_mb,
        "output_bytes": limits.output_bytes,
        "allowed_imports": sorted(allowed_imports),
        "allowed_builtins": sorted(allowed_builtins),
    }
    line = _pool.request(json.dumps(request), limits.timeout_s + _WORKER_MARGIN_S)
    if line is None:
        return Execution("crashed", detail="the sandbox worker did not answer")
    reply = json.loads(line)
    if reply["status"] != "ok":
        return Execution(reply["status"], detail=reply["detail"])
    try:
        value = literal_value(reply["output"])
    except LITERAL_ERRORS as error:
        return Execution("not_literal", detail=f"the output does not read back as a literal: {error}"[:500])
    return Execution("ok", output=reply["output"], value=value)


def run_functions(
    calls: list[tuple[str, str | None]],
    *,
    entry: str | None = "f",
    limits: Limits = Limits(),
    allowed_imports: frozenset[str] = ALLOWED_IMPORTS,
    allowed_builtins: frozenset[str] = frozenset(),
) -> list[Execution]:
    """`run_function` over `(program, arguments)` pairs, as many at once as the pool has workers
    (`RZERO_SANDBOX_WORKERS`, default one per core); the verdicts in order."""
    with ThreadPoolExecutor(max_workers=max(1, _pool.max_workers)) as threads:
        return list(
            threads.map(
                lambda call: run_function(
                    call[0],
                    call[1],
                    entry=entry,
                    limits=limits,
                    allowed_imports=allowed_imports,
                    allowed_builtins=allowed_builtins,
                ),
                calls,
            )
        )


def shutdown_sandbox() -> None:
    """Kill the sandbox's worker processes (they restart on the next run)."""
    _pool.shutdown()
