"""`rzero azr-seed` (issue 14, the paper's seeding stage, §3.3.1) with the embedded coder model on vLLM's
CPU build: killed after its first round and resumed, its buffers re-validated by the executor and
accepted by self-play's config check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from recipe.azr.buffers import ZERO_TRIPLE, TaskBuffers
from recipe.azr.config import check_azr_config
from recipe.azr.seeding import stats_path
from rzero_rewards.code import validate_tasks
from tests.helpers import ROOT, run_command
from tests.test_azr_config import compose_azr

SIZE = 3  # tasks per buffer besides the zero triple; 2 proposals per round: at least 2 rounds
# One task type: the stage's rounds, resume and stats do not depend on it, and each round's proposals
# take about as long as two types' (the coder's decoding on CPU is bound by reading its weights); a
# CI run with deduction and abduction took 5 rounds, abduction's proposals validating less often.
TASK_TYPES = ("deduction",)


@pytest.fixture(scope="module")
def seeded(coder_model, infer_python, tmp_path_factory):
    output = tmp_path_factory.mktemp("seed") / "seed_buffers.json"
    args = ["--model", coder_model, "--output", output, "--size", SIZE, "--batch-size", 2, "--references", 2,
            "--task-types", *TASK_TYPES, "--max-tokens", 384, "--format-example",
            "--max-model-len", "1536", "--device", "cpu", "--max-rounds", 12]  # fmt: skip
    command = [infer_python, "-m", "recipe.rzero", "azr-seed", *map(str, args)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    stats = stats_path(output)
    deadline = time.monotonic() + 900
    while not stats.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stats.exists(), "no round was saved"
    first_round = json.loads(stats.read_text())["rounds"][0]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed = run_command(infer_python, "azr-seed", *args)
    again = run_command(infer_python, "azr-seed", *args)
    other = run_command(infer_python, "azr-seed", *args, "--references", 3, check=False)
    return {"output": output, "first_round": first_round, "resumed": resumed.stdout, "again": again.stdout,
            "other": other}  # fmt: skip


def test_the_seeding_stage_fills_each_buffer_with_valid_tasks_and_resumes(seeded):
    stats = json.loads(stats_path(seeded["output"]).read_text())
    assert stats["rounds"][0] == seeded["first_round"]  # the round saved before the kill was kept
    buffers = TaskBuffers.load(seeded["output"])
    for task_type in TASK_TYPES:
        tasks = buffers.tasks[task_type]
        assert tasks[0] == ZERO_TRIPLE and len(tasks) >= SIZE + 1
        verdicts = validate_tasks([(task.program, task.input) for task in tasks[1:]])
        assert [verdict.task for verdict in verdicts] == tasks[1:]  # the executor agrees, outputs included
        assert stats["rounds"][-1]["buffer_sizes"][task_type] == len(tasks)
    assert len(buffers.tasks["abduction"]) == len(buffers.tasks["induction"]) == 1  # not asked for
    assert "round" not in seeded["again"]  # finished: not run again (no engine started)
    other = seeded["other"]  # the same file with another K: refused, nothing changed
    assert other.returncode == 1 and f"{seeded['output']} was seeded with other settings" in other.stderr
    assert json.loads(stats_path(seeded["output"]).read_text()) == stats


def test_self_play_starts_from_the_seeded_buffers(seeded, tmp_path):
    config = compose_azr(["actor_rollout_ref.model.path=m", f"trainer.default_local_dir={tmp_path}",
                          f"azr.seed_buffers={seeded['output']}"])  # fmt: skip
    check_azr_config(config)
