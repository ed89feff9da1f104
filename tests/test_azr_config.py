"""AZR's config (recipe/azr/config/azr.yaml) against the installed verl, the GPU example's plan, and the
bad inputs that must fail with a clear error before Ray starts (issue 14)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir

from recipe.azr.buffers import TaskBuffers
from recipe.azr.config import check_azr_config
from recipe.azr.trr import ESTIMATOR_NAME
from recipe.rzero.hardware import cpu_compute_dtype
from tests.helpers import ROOT
from tests.test_recipe_config import assert_chained, compute_dtype, planned_commands, validate_with_verl

CONFIG_DIR = str(ROOT / "recipe" / "azr" / "config")


def compose_azr(overrides: list[str]):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose(config_name="azr", overrides=overrides)


def test_defaults_are_the_papers():
    config = compose_azr(["actor_rollout_ref.model.path=m", "trainer.default_local_dir=/run"])
    azr = config.azr
    assert (azr.batch_size, azr.references, azr.learnability_samples, azr.induction_inputs) == (64, 6, 8, 10)
    assert list(azr.task_types) == ["deduction", "abduction", "induction"] and azr.max_programs == 16384
    assert azr.timeout_s == 10  # the proposer prompt's "completes within 10 seconds" (the public code's timeout)
    assert config.data.train_batch_size == 384 and config.actor_rollout_ref.rollout.n == 1
    actor = config.actor_rollout_ref.actor
    assert actor.optim.lr == 1e-6 and actor.entropy_coeff == 0.001 and not actor.use_kl_loss
    assert config.algorithm.adv_estimator == ESTIMATOR_NAME and not config.algorithm.use_kl_in_reward
    assert (config.data.max_prompt_length, config.data.max_response_length) == (6144, 8096)
    assert config.data.train_files == "/run/azr_slots.parquet"
    check_azr_config(config)


def composed_training(script: str, tmp_path):
    """The commands `examples/<script> --dry-run` plans, and its self-play's config composed and
    checked as verl and `main_azr` check it."""
    commands = planned_commands(script, tmp_path)
    (training,) = [c for c in commands if "recipe.azr.main_azr" in c]
    config = compose_azr(training[training.index("recipe.azr.main_azr") + 1 :])
    validate_with_verl(config)
    seeded = config.azr.seed_buffers  # made by the plan's seeding stage, which a dry run does not run
    config.azr.seed_buffers = None
    check_azr_config(config)
    config.azr.seed_buffers = seeded
    return commands, config


def test_the_gpu_example_composes_against_verl_and_chains(tmp_path):
    commands, config = composed_training("run_azr_qwen2.5_coder_7b.sh", tmp_path)
    assert config.actor_rollout_ref.model.path == "Qwen/Qwen2.5-Coder-7B" and config.trainer.n_gpus_per_node == 4
    stages = [c[3] for c in commands if c[1:3] == ["-m", "recipe.rzero"]]
    assert stages == ["evaluate", "azr-seed", "evaluate", "report"]
    (seed,) = [c for c in commands if "azr-seed" in c]
    assert config.azr.seed_buffers == seed[seed.index("--output") + 1] and "256" in seed  # B x S (§3.3.1)
    assert_chained(commands)


def test_the_cpu_example_composes_with_the_cpu_device(tmp_path):
    from verl.utils.torch_dtypes import PrecisionType

    _, config = composed_training("run_azr_coder_cpu.sh", tmp_path)
    assert config.trainer.device == "cpu" and config.actor_rollout_ref.rollout.name == "hf"
    expected = str(PrecisionType.to_dtype(cpu_compute_dtype()))  # as the CPU has bf16 instructions: test_hardware.py
    assert compute_dtype(config.actor_rollout_ref.actor.fsdp_config) == expected
    # one row per micro-batch (no padding) over azr.yaml's token-budget micro-batches
    actor, rollout = config.actor_rollout_ref.actor, config.actor_rollout_ref.rollout
    assert (actor.use_dynamic_bsz, actor.ppo_micro_batch_size_per_gpu) == (False, 1)
    for scorer in (rollout, config.actor_rollout_ref.ref):  # old and reference log-probs
        assert (scorer.log_prob_use_dynamic_bsz, scorer.log_prob_micro_batch_size_per_gpu) == (False, 1)
    # the trainer's mmap threshold: this model's measured memory fix, not the device config's 4 MiB
    # (a string: Ray refuses other environment values)
    assert config.ray_kwargs.ray_init.runtime_env.env_vars.RZERO_TRAINER_MMAP_THRESHOLD == "65536"


def _checkpoint(tmp_path, text: str | None):
    step = tmp_path / "global_step_3"
    step.mkdir(parents=True)
    (tmp_path / "latest_checkpointed_iteration.txt").write_text("3")
    if text is not None:
        (step / "azr_buffers.json").write_text(text)
    return ["actor_rollout_ref.model.path=m", f"trainer.default_local_dir={tmp_path}"]


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        (["azr.task_types=[deduction,sorting]"], ValueError, "unknown task type 'sorting'"),
        (["azr.task_types=[deduction,deduction]", "data.train_batch_size=256"], ValueError, "at most once"),
        (["azr.batch_size=2"], ValueError, "data.train_batch_size=384: one AZR step trains 2 roles x azr.batch_size=2"),
        (["azr.references=-1"], ValueError, "references must be at least 0"),
        (["actor_rollout_ref.rollout.n=4"], ValueError, "actor_rollout_ref.rollout.n=4"),
        (["algorithm.adv_estimator=grpo"], ValueError, "algorithm.adv_estimator=grpo"),
        (["trainer.test_freq=5"], ValueError, "no validation set"),
        (["actor_rollout_ref.model.path=null"], ValueError, "actor_rollout_ref.model.path: name the model"),
        (["azr.references=8", "azr.max_programs=4"], ValueError, "azr.references=8: K references cannot be drawn"),
        (["actor_rollout_ref.rollout.agent.agent_loop_manager_class=null"], ValueError, "agent_loop_manager_class=None"),
    ],
)
def test_bad_settings_are_named(overrides, error, message):
    config = compose_azr(["actor_rollout_ref.model.path=m", "trainer.default_local_dir=/run", *overrides])
    with pytest.raises(error, match=message.replace("[", r"\[")):
        check_azr_config(config)


def test_an_empty_or_broken_seed_buffer_file_is_named(tmp_path):
    empty, broken = tmp_path / "empty.json", tmp_path / "broken.json"
    empty.write_text("")
    broken.write_text('{"version": 1, "tasks": {"deduction": [{"program": 3}]')
    for path, message in ((empty, "is empty"), (broken, "is not valid JSON"), (tmp_path / "none.json", "does not exist")):
        config = compose_azr(["actor_rollout_ref.model.path=m", "trainer.default_local_dir=/run", f"azr.seed_buffers={path}"])
        with pytest.raises((ValueError, FileNotFoundError), match=f"{path}.*{message}|{message}.*"):
            check_azr_config(config)


def test_a_resumed_checkpoints_buffers_are_checked(tmp_path):
    """A checkpoint whose buffers are missing or corrupted fails before Ray starts, naming the file."""
    with pytest.raises(FileNotFoundError, match="global_step_3 has no azr_buffers.json"):
        check_azr_config(compose_azr(_checkpoint(tmp_path / "missing", None)))
    good = tmp_path / "good"
    overrides = _checkpoint(good, "")
    TaskBuffers.seeded().save(good / "global_step_3" / "azr_buffers.json")
    check_azr_config(compose_azr(overrides))
    corrupted = good / "global_step_3" / "azr_buffers.json"
    corrupted.write_text(corrupted.read_text()[:100])  # a truncated copy
    with pytest.raises(ValueError, match=f"buffer file {corrupted} is not valid JSON"):
        check_azr_config(compose_azr(overrides))


def test_the_slot_file_never_overwrites_a_dataset(tmp_path):
    from recipe.azr.main_azr import SLOT_DATA_SOURCE, write_slots
    from recipe.rzero.rl_data import write_rl_parquet

    slots = tmp_path / "azr_slots.parquet"
    write_slots(slots, 12)
    write_slots(slots, 6)  # a relaunch with another batch size rewrites it
    import pyarrow.parquet as pq

    assert pq.read_table(slots).column("data_source").to_pylist() == [SLOT_DATA_SOURCE] * 6
    dataset = tmp_path / "solver.parquet"
    write_rl_parquet(dataset, [{"data_source": "rzero_solver", "prompt": [], "ability": "math",
                                "reward_model": {"style": "rule", "ground_truth": "1"}, "extra_info": {"index": 0}}])  # fmt: skip
    before = dataset.read_bytes()
    with pytest.raises(ValueError, match=f"data.train_files={dataset} is not an AZR slot file"):
        write_slots(dataset, 6)
    assert dataset.read_bytes() == before


def test_the_launcher_refuses_a_bad_config_before_ray_starts(tmp_path):
    command = [
        sys.executable, "-m", "recipe.azr.main_azr", "actor_rollout_ref.model.path=m",
        f"trainer.default_local_dir={tmp_path}", f"hydra.run.dir={tmp_path}/hydra", "azr.task_types=[deduction,sorting]",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "unknown task type 'sorting'" in result.stderr and "Started a local Ray instance" not in result.stderr
    assert not (tmp_path / "azr_slots.parquet").exists()
