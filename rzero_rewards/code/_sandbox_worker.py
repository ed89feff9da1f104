"""The code sandbox's worker process: one JSON request line in, one JSON reply line out.

It runs as `python -m rzero_rewards.code._sandbox_worker`, normally inside bubblewrap (see
`sandbox.py`), and is trusted: it never runs model code itself. For each request it forks a child
that locks itself down (new session, throw-away cwd, no inherited file descriptors or environment,
resource limits, the `nobody` user when started as root, a seccomp filter) and only then compiles
and runs the program. The worker reads the child's reply from a pipe under a wall-clock deadline
and kills the child's process group when the deadline passes or the reply grows past its cap.
When the program has finished, the child writes `finished`; only then does the worker make a
random nonce and send it on a second pipe, and it takes the reply only when that reply carries it
(a reply that a program wrote blindly into the pipe is `crashed`).

Request: {"program", "entry" (function name or null), "arguments" (call-argument text or null),
"timeout_s", "memory_mb", "output_bytes", "allowed_imports" (list), "allowed_builtins" (list)}.
Reply: {"status", "output" (repr of the return value, or null), "detail"}; statuses in `sandbox.py`.
"""

from __future__ import annotations

import builtins
import encodings
import errno
import importlib
import json
import math
import os
import pkgutil
import resource
import select
import shutil
import signal
import sys
import tempfile
import time

import pyseccomp

from .literals import TooLarge, literal_problem, parse_arguments
from .policy import FORBIDDEN_BUILTINS

NOBODY = 65534  # uid and gid of `nobody` / `nogroup`
FILE_BYTES = 1 << 20  # the largest file a program may write (in its throw-away cwd)
OPEN_FILES = 32
# What the child writes when the program has finished; the worker answers with a nonce, which the
# child's reply must carry (see `sandbox.py` for what this does and does not prove).
FINISHED = b"finished\n"

# Denied with EPERM: new processes and programs, sockets, signals to other processes, namespaces,
# mounts and privileges, tracing other processes, and kernel interfaces a program never needs.
# (io_uring would run I/O that this filter never sees.)
DENIED_SYSCALLS = (
    "fork", "vfork", "clone", "clone3", "execve", "execveat",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
    "fsmount", "fsconfig", "fspick", "mount_setattr",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
    "capset", "prctl", "personality", "seccomp", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "mknod", "mknodat", "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "swapon", "swapoff", "syslog", "acct", "quotactl", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "ioperm", "iopl", "name_to_handle_at",
    "open_by_handle_at", "lookup_dcookie", "vhangup", "nfsservctl", "uselib", "kcmp", "move_pages",
    "migrate_pages", "mbind", "set_mempolicy",
)  # fmt: skip

def syscall_filter() -> pyseccomp.SyscallFilter:
    """The seccomp filter (libseccomp): allow by default, EPERM for `DENIED_SYSCALLS`. libseccomp
    kills a process that makes a system call of another architecture (e.g. 32-bit int 0x80)."""
    flt = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        flt.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    return flt


def guarded_builtins(allowed_imports: frozenset[str], allowed_builtins: frozenset[str] = frozenset()) -> dict:
    """The built-ins a program sees: none of `FORBIDDEN_BUILTINS` (`open`, `eval`, `exec`, ...)
    but those in `allowed_builtins`, and an `__import__` that refuses modules outside the
    allow-list (a second line behind the static check)."""
    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level or name.split(".")[0] not in allowed_imports:
            raise ImportError(f"importing {name!r} is not allowed")
        return real_import(name, globals, locals, fromlist, level)

    namespace = dict(vars(builtins))
    for name in FORBIDDEN_BUILTINS - allowed_builtins:
        namespace.pop(name, None)
    namespace["__import__"] = guarded_import
    return namespace


def lock_down(cwd: str, keep_fds: tuple[int, ...], request: dict, flt: pyseccomp.SyscallFilter) -> None:
    """In the forked child, before any model code: the irreversible restrictions."""
    os.setsid()  # its own process group, killed as a whole
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    start = 3
    for fd in sorted(keep_fds):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 1 << 16)
    os.chdir(cwd)
    os.environ.clear()
    cpu_s = math.ceil(request["timeout_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    memory = request["memory_mb"] << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() == 0:  # no capabilities, no root-owned files, RLIMIT_NPROC applies
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    flt.load()  # sets no_new_privs first


def run_child(request: dict) -> dict:
    """Compile and run the program (in the locked-down child); the reply to send."""
    namespace = guarded_builtins(frozenset(request["allowed_imports"]), frozenset(request["allowed_builtins"]))
    scope = {"__name__": "__sandbox__", "__builtins__": namespace}
    try:
        code = compile(request["program"], "<program>", "exec")
        args, kwargs = parse_arguments(request["arguments"]) if request["arguments"] is not None else ([], {})
        exec(code, scope)
        if request["entry"] and not callable(scope.get(request["entry"])):
            return {"status": "error", "output": None, "detail": f"defines no function {request['entry']!r}"}
        value = scope[request["entry"]](*args, **kwargs) if request["entry"] else None
    except MemoryError:
        return {"status": "memory", "output": None, "detail": "MemoryError"}
    except BaseException as error:  # the program's own failure, SystemExit included
        return {"status": "error", "output": None, "detail": f"{type(error).__name__}: {error}"[:500]}
    try:
        problem = literal_problem(value, request["output_bytes"])
        output = None if problem else repr(value)
    except TooLarge as error:
        return {"status": "output_limit", "output": None, "detail": str(error)}
    except MemoryError:
        return {"status": "memory", "output": None, "detail": "MemoryError while writing the output"}
    except BaseException as error:  # e.g. an int with too many digits for repr
        problem = f"the output cannot be written: {type(error).__name__}: {error}"[:500]
    if problem:
        return {"status": "not_literal", "output": None, "detail": problem}
    if len(output) > request["output_bytes"]:
        return {"status": "output_limit", "output": None, "detail": f"{len(output)} characters"}
    return {"status": "ok", "output": output, "detail": ""}


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def child_main(request: dict, cwd: str, reply_fd: int, nonce_fd: int, flt: pyseccomp.SyscallFilter) -> None:
    """The child: lock down, run the program, then the handshake: `FINISHED`, read the nonce the
    worker makes only then, and write the reply with it."""
    try:
        lock_down(cwd, (reply_fd, nonce_fd), request, flt)
        reply = run_child(request)
        _write_all(reply_fd, FINISHED)
        nonce = b""
        while not nonce.endswith(b"\n"):
            chunk = os.read(nonce_fd, 64)
            if not chunk:
                return
            nonce += chunk
        _write_all(reply_fd, json.dumps({**reply, "nonce": nonce.decode().strip()}).encode())
    finally:
        os._exit(0)


def execute(request: dict, flt: pyseccomp.SyscallFilter) -> dict:
    """Run one request in a fresh child under the wall-clock deadline; the reply."""
    for module in request["allowed_imports"]:  # imported here: the child cannot read the disk
        importlib.import_module(module)
    cwd = tempfile.mkdtemp(prefix="rzero-sandbox-")
    if os.geteuid() == 0:
        os.chown(cwd, NOBODY, NOBODY)
    read_fd, write_fd = os.pipe()  # the reply, child to worker
    nonce_read_fd, nonce_write_fd = os.pipe()  # the nonce, worker to child
    deadline = time.monotonic() + request["timeout_s"]
    cap = request["output_bytes"] * 6 + 4096  # json escapes at most 6 bytes per character
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.close(nonce_write_fd)
        child_main(request, cwd, write_fd, nonce_read_fd, flt)
    os.close(write_fd)
    os.close(nonce_read_fd)
    data, nonce, verdict = b"", None, None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                verdict = "timeout"
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            data += chunk
            if len(data) > cap:
                verdict = "output_limit"
                break
            if nonce is None and len(data) >= len(FINISHED):
                if not data.startswith(FINISHED):
                    break  # something else wrote first: garbled
                nonce = os.urandom(16).hex()
                try:
                    os.write(nonce_write_fd, (nonce + "\n").encode())
                except BrokenPipeError:
                    break
    finally:
        os.close(read_fd)
        os.close(nonce_write_fd)
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # already gone (or its group not yet made: then the pid alone)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status = os.waitpid(pid, 0)
        shutil.rmtree(cwd, ignore_errors=True)
    if verdict == "timeout":
        return {"status": "timeout", "output": None, "detail": f"stopped after {request['timeout_s']} s"}
    if verdict == "output_limit":
        return {"status": "output_limit", "output": None, "detail": "the reply exceeded its cap"}
    if data:
        try:
            if nonce is None or not data.startswith(FINISHED):
                raise ValueError("no handshake")
            reply = json.loads(data[len(FINISHED) :])
            if not isinstance(reply, dict) or set(reply) != {"status", "output", "detail", "nonce"}:
                raise ValueError("unexpected fields")
            if reply.pop("nonce") != nonce:
                raise ValueError("another nonce")
        except ValueError:  # cut off by a crash, or the program wrote into the reply pipe itself
            return {"status": "crashed", "output": None, "detail": "the reply was garbled"}
        return reply
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
        return {"status": "timeout", "output": None, "detail": "killed at the CPU-time limit (or out of memory)"}
    how = f"by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status) else "without a reply"
    return {"status": "crashed", "output": None, "detail": f"the program's process ended {how}"}


def preload_codecs() -> None:
    """Import every standard codec (about 30 ms): `str.encode` and `bytes.decode` look codecs up
    by importing `encodings.<name>`, which the child, as `nobody`, often cannot read from disk."""
    for module in pkgutil.iter_modules(encodings.__path__):
        try:
            importlib.import_module(f"encodings.{module.name}")
        except ImportError:  # mbcs and oem exist on Windows only
            pass


def main() -> None:
    preload_codecs()
    flt = syscall_filter()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        reply = execute(json.loads(line), flt)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
