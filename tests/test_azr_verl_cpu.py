"""AZR self-play on verl's own trainer on CPU (issue 14): one real run, killed and resumed, no mocks.

`recipe.azr.main_azr` with the GPU example's own overrides (examples/run_azr_qwen2.5_coder_7b.sh;
device and size keys rewritten for a CPU, `tests/test_verl_cpu.on_cpu`) and the embedded SmolLM2:
2 steps of B = 2 proposals and solves per task type (12 rows a step, every TRR++ group of two), K = 2,
n = 2, a checkpoint each step. The run is killed during step 2 and resumed. One run, several checks:
both roles of all three task types are trained each step with the executor's rewards; TRR++'s
advantages are non-zero exactly when a group's rewards differ; the resumed run continues at step 2
with the buffers saved in step 1's checkpoint; the final model is merged.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from recipe.azr.buffers import TASK_TYPES, TaskBuffers
from recipe.azr.trr import ROLES
from recipe.rzero.report import read_scalars
from tests.helpers import remove_checkpoints
from tests.test_recipe_config import planned_commands
from tests.test_verl_cpu import kill_during_step_2, rollouts, run, start

# The GPU example's keys that name GPUs or GPU-only kernels, or micro-batch by tokens per GPU over
# padding-free rows (+device=cpu sets the others: one row per micro-batch), and its sizes.
DEVICE_KEYS = (
    "trainer.n_gpus_per_node",
    "actor_rollout_ref.model.use_remove_padding",
    "actor_rollout_ref.actor.ulysses_sequence_parallel_size",
    "actor_rollout_ref.actor.ppo_max_token_len_per_gpu",
    "actor_rollout_ref.rollout.tensor_model_parallel_size",
    "actor_rollout_ref.rollout.gpu_memory_utilization",
    "actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu",
)
SIZES = {
    "azr.batch_size": "2",
    "data.train_batch_size": "12",  # 2 roles x B x 3 task types
    "azr.references": "2",
    "azr.learnability_samples": "2",
    "azr.induction_inputs": "4",
    "data.max_prompt_length": "1024",
    "data.max_response_length": "128",
    # a 135M model's activations fit: no recomputed forward in the update (the R-Zero loop's verl
    # test keeps gradient checkpointing on)
    "actor_rollout_ref.model.enable_gradient_checkpointing": "false",
}
# The tiny model writes blocks only with the one-shot example, and more often below temperature 1.
TINY_MODEL = ["azr.format_example=true", "actor_rollout_ref.rollout.temperature=0.7"]
# The loop's own keys (paths; the seeding stage's buffers: this run starts from the zero triple).
OWN_KEYS = ("hydra.run.dir", "actor_rollout_ref.model.path", "trainer.default_local_dir", "trainer.experiment_name",
            "azr.seed_buffers")


def cpu_overrides(directory: Path, plan: Path) -> list[str]:
    (command,) = [c for c in planned_commands("run_azr_qwen2.5_coder_7b.sh", plan) if "recipe.azr.main_azr" in c]
    rewritten = set(DEVICE_KEYS) | set(SIZES) | set(OWN_KEYS)
    kept = [o for o in command[command.index("recipe.azr.main_azr") + 1 :] if o.split("=", 1)[0] not in rewritten]
    return [
        "+device=cpu", *kept, *(f"{key}={value}" for key, value in SIZES.items()), *TINY_MODEL,
        f"hydra.run.dir={directory}/hydra", f"trainer.default_local_dir={directory}",
        f"trainer.rollout_data_dir={directory}/rollouts", f"trainer.experiment_name={directory.name}",
        "trainer.total_training_steps=2", "trainer.save_freq=1",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def azr_run(tmp_path_factory, embedded_model) -> Iterator[dict]:
    directory = tmp_path_factory.mktemp("azr") / "selfplay"
    command = [
        sys.executable, "-m", "recipe.azr.main_azr", f"actor_rollout_ref.model.path={embedded_model}",
        *cpu_overrides(directory, tmp_path_factory.mktemp("plan")),
    ]  # fmt: skip
    killed = kill_during_step_2(start(command, directory), directory)
    assert not (directory / "global_step_2" / "actor").exists(), "step 2 finished before the kill"
    step_1_buffers = (directory / "global_step_1" / "azr_buffers.json").read_text()
    resumed = run(command, directory)
    yield {"directory": directory, "killed": killed, "resumed": resumed, "step_1_buffers": step_1_buffers}
    remove_checkpoints(directory)


def groups(rows: list[dict]) -> dict[tuple[str, str], list[float]]:
    scores = defaultdict(list)
    for row in rows:
        scores[row["azr_task_type"], row["azr_role"]].append(row["score"])
    return dict(scores)


def test_each_step_trains_both_roles_of_every_task_type_with_the_executors_rewards(azr_run):
    directory = azr_run["directory"]
    for step in (1, 2):
        scores = groups(rollouts(directory, step))
        assert sorted(scores) == sorted((t, r) for t in TASK_TYPES for r in ROLES)
        for (task_type, role), values in scores.items():
            assert len(values) == 2, (task_type, role)
            # Eq. 6: a solver answer 1, -0.5 (wrong, in its block) or -1 (no block); a proposal -1
            # (invalid) or its learnability (1 - s̄ for 0 < s̄ < 1, else 0)
            if role == "solve":
                assert set(values) <= {-1.0, -0.5, 1.0}, (task_type, values)
            else:
                assert all(v == -1.0 or 0.0 <= v < 1.0 for v in values), (task_type, values)
    records = [json.loads(line) for line in (directory / "azr_steps.jsonl").read_text().splitlines()]
    assert records[0]["step"] == 1 and {r["step"] for r in records} == {1, 2}
    for record in records:
        assert set(record["task_types"]) == set(TASK_TYPES)
        assert all(values["proposals"] == 2 for values in record["task_types"].values())


def test_trr_advantages_are_non_zero_exactly_where_a_group_has_a_signal(azr_run):
    """TRR++ normalises within each (task type, role): a group whose two rewards differ gets ±0.707
    (one row above its mean, one below, Bessel's std); a group of equal rewards gets 0."""
    directory = azr_run["directory"]
    curves = read_scalars(directory / "tensorboard")
    for step in (1, 2):
        signal = any(len(set(values)) > 1 for values in groups(rollouts(directory, step)).values())
        high = dict(curves["critic/advantages/max"])[step]
        low = dict(curves["critic/advantages/min"])[step]
        if signal:
            assert high == pytest.approx(0.7071, abs=1e-3) and low == pytest.approx(-0.7071, abs=1e-3)
        else:
            assert high == low == 0.0


def test_a_killed_run_resumes_at_its_checkpoint_with_the_checkpointed_buffers(azr_run):
    directory, resumed = azr_run["directory"], azr_run["resumed"]
    assert "step:1 -" not in resumed and "step:2 -" in resumed
    sizes = TaskBuffers.load(directory / "global_step_1" / "azr_buffers.json").sizes()
    assert f"[azr] buffers of {directory}/global_step_1: {sizes}" in resumed
    assert (directory / "global_step_1" / "azr_buffers.json").read_text() == azr_run["step_1_buffers"]
    final = TaskBuffers.load(directory / "global_step_2" / "azr_buffers.json")
    (step_2,) = [json.loads(line) for line in (directory / "azr_steps.jsonl").read_text().splitlines()][-1:]
    assert step_2["step"] == 2
    for task_type in TASK_TYPES:  # step 2's valid proposals joined step 1's buffers
        assert final.sizes()[task_type] == sizes[task_type] + step_2["task_types"][task_type]["valid"]
        assert step_2["task_types"][task_type]["buffer_size"] == final.sizes()[task_type]
    assert (directory / "model" / "config.json").is_file() and not (directory / "model.partial").exists()
