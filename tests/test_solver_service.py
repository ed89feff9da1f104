"""The solver service and client against a real vLLM server (CPU build) with the embedded model."""

import os
import re
import signal
import socket
import subprocess
import threading
from pathlib import Path

import psutil
import pytest

from recipe.rzero.solver_client import SolverClient, SolverClientConfig, SolverUnavailableError
from recipe.rzero.solver_service import SolverService, SolverServiceConfig, SolverServiceError
from recipe.rzero.vllm_engine import vllm_cpu_environment
from rzero_rewards import extract_boxed, majority_vote
from tests.helpers import ROOT, left_running

pytestmark = pytest.mark.vllm

QUESTIONS = ["What is 12 * 7?", "What is 2 + 3? Put the answer in \\boxed{}.", "Compute 10 - 4."]


def service_config(model, python, tmp_path, **overrides):
    return SolverServiceConfig(model=model, python=python, max_model_len=1024, log_dir=tmp_path, **overrides)


def test_served_verdicts_are_the_raw_samples_vote_and_sigterm_leaves_no_process(embedded_model, infer_python, tmp_path):
    """`rzero serve-solver` as the loop runs it: its URL line, verdicts from the raw samples, and on
    SIGTERM (the loop's exit, a scheduler's preemption) no process of it or its vLLM server left."""
    command = [infer_python, "-m", "recipe.rzero", "serve-solver", "--model", embedded_model, "--log-dir", tmp_path,
               "--max-model-len", "1024"]  # fmt: skip
    server = subprocess.Popen(list(map(str, command)), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url, log = re.fullmatch(r"(\S+)  \(log: (.+)\)\n", server.stdout.readline()).groups()
        started = psutil.Process(server.pid).children(recursive=True)
        config = SolverClientConfig(samples=4, max_tokens=48, concurrency=2, log_paths=[Path(log)])
        verdicts = SolverClient(url, config).score(QUESTIONS)
    finally:
        server.terminate()
        server.wait(timeout=120)
    assert [verdict.question for verdict in verdicts] == QUESTIONS
    for verdict in verdicts:
        assert len(verdict.responses) == len(verdict.answers) == 4
        assert verdict.answers == [extract_boxed(response) for response in verdict.responses]
        vote = majority_vote(verdict.answers)
        assert (verdict.label, verdict.p_hat, verdict.counts) == (vote.label, vote.p_hat, vote.counts)
        assert verdict.p_hat in {0.0, 0.25, 0.5, 0.75, 1.0}
        assert verdict.latency_s > 0
    assert server.returncode == 0 and started and not SolverService.healthy(url)
    assert not (left := left_running(started)), f"left running after SIGTERM: {left}"


def test_server_crash_mid_batch_is_a_clear_error(embedded_model, infer_python, tmp_path):
    service = SolverService(service_config(embedded_model, infer_python, tmp_path))
    service.start()
    try:
        config = SolverClientConfig(
            samples=4, max_tokens=400, concurrency=1, retries=1, backoff_s=0.1, log_paths=service.log_paths
        )
        killer = threading.Timer(3.0, os.killpg, (service._replicas[0].process.pid, signal.SIGKILL))
        killer.start()
        with pytest.raises(SolverUnavailableError) as error:
            SolverClient(service.urls, config).score(QUESTIONS * 4)
        killer.join()
        assert service.urls[0] in str(error.value) and str(service.log_paths[0]) in str(error.value)
    finally:
        service.stop()


def test_unreachable_url_names_the_url_and_log(tmp_path):
    config = SolverClientConfig(samples=2, retries=1, backoff_s=0.01, log_paths=[tmp_path / "solver_0.log"])
    with pytest.raises(SolverUnavailableError, match=r"127\.0\.0\.1:9 failed 2 times.*solver_0\.log"):
        SolverClient("http://127.0.0.1:9", config).score(["1+1?"])


def test_port_in_use_is_refused_before_starting(embedded_model, infer_python, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SolverServiceError, match=f"port {port} on 127.0.0.1 is already in use"):
            SolverService(service_config(embedded_model, infer_python, tmp_path, ports=[port])).start()
    assert not list(tmp_path.glob("solver_*.log"))


def test_missing_model_is_refused(infer_python, tmp_path):
    with pytest.raises(FileNotFoundError, match="solver model '/nonexistent/model'"):
        service_config("/nonexistent/model", infer_python, tmp_path)


def test_server_that_fails_to_start_reports_its_log(infer_python, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(SolverServiceError, match="exited with code .* during start-up; log: .*solver_0.log"):
        SolverService(service_config(str(broken), infer_python, tmp_path)).start()


def test_cpu_replicas_get_their_own_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4})
    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", "0-4")
    assert vllm_cpu_environment()["VLLM_CPU_OMP_THREADS_BIND"] == "0-4"  # set by the user: kept
    assert [vllm_cpu_environment(replica, 2)["VLLM_CPU_OMP_THREADS_BIND"] for replica in range(2)] == ["0,1", "2,3"]
    # one engine: in one process; several: vLLM's worker processes, which pin their threads to the slice
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)
    assert vllm_cpu_environment()["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"
    assert vllm_cpu_environment(1, 2)["VLLM_ENABLE_V1_MULTIPROCESSING"] == "1"
    with pytest.raises(ValueError, match="6 CPU replicas need at least 6 cores; this process may use 5"):
        vllm_cpu_environment(0, 6)


def test_two_cpu_replicas_split_cores_and_memory_and_share_the_work(embedded_model, infer_python, tmp_path):
    config = service_config(embedded_model, infer_python, tmp_path, replicas=2, device="cpu")
    assert config.gpu_memory_utilization == 0.125
    cores = sorted(os.sched_getaffinity(0))
    half = len(cores) // 2
    expected_binds = [",".join(map(str, cores[:half])), ",".join(map(str, cores[half : 2 * half]))]
    with SolverService(config) as service:
        assert len(set(service.urls)) == 2
        client_config = SolverClientConfig(samples=2, max_tokens=16, concurrency=4, log_paths=service.log_paths)
        verdicts = SolverClient(service.urls, client_config).score(QUESTIONS + QUESTIONS)
    assert all(len(verdict.answers) == 2 for verdict in verdicts)
    for replica, log_path in enumerate(service.log_paths):
        log = log_path.read_text()
        assert f"VLLM_CPU_OMP_THREADS_BIND='{expected_binds[replica]}'" in log
        assert "POST /v1/chat/completions" in log  # both replicas served requests
