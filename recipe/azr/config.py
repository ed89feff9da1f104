"""The `azr:` section of `config/azr.yaml` read into the self-play settings, and the checks of a
composed AZR config that run before Ray starts (a wrong setting should cost seconds, not minutes).

Kept free of verl imports, so the checks and their tests need no Ray.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from rzero_rewards.code import Limits

from .buffers import TaskBuffers
from .selfplay import SelfPlaySettings
from .trr import ESTIMATOR_NAME

MANAGER_CLASS = "recipe.azr.agent_loop.AZRAgentLoopManager"
BUFFERS_FILE = "azr_buffers.json"  # in each verl checkpoint folder, global_step_N/
STEPS_FILE = "azr_steps.jsonl"  # in trainer.default_local_dir: one `step_record` per step


def selfplay_settings(azr: DictConfig) -> SelfPlaySettings:
    """`SelfPlaySettings` from `azr.*`; raises ValueError naming an unknown task type or a bad count."""
    return SelfPlaySettings(
        batch_size=azr.batch_size,
        references=azr.references,
        learnability_samples=azr.learnability_samples,
        induction_inputs=azr.induction_inputs,
        task_types=tuple(azr.task_types),
        format_rule=azr.format_rule,
        format_example=azr.format_example,
        limits=Limits(timeout_s=azr.timeout_s),
    )


def initial_buffers(azr: DictConfig) -> TaskBuffers:
    """The buffers a run starts from: `azr.seed_buffers` (a buffer file, e.g. a seeding stage's or an
    earlier run's) or the paper's zero triple. Raises what `TaskBuffers.load` raises for a bad file."""
    if azr.seed_buffers:
        return TaskBuffers.load(Path(azr.seed_buffers))
    return TaskBuffers.seeded(max_size=azr.max_programs, seed=azr.seed)


def checkpoint_buffers(step_dir: Path) -> Path:
    """The buffer file saved with verl's checkpoint folder `global_step_N`."""
    return Path(step_dir) / BUFFERS_FILE


def latest_checkpoint(config: DictConfig) -> Path | None:
    """The checkpoint folder verl resumes from (`trainer.resume_mode` auto or resume_path), or None."""
    mode = config.trainer.resume_mode
    if mode == "disable":
        return None
    if mode == "resume_path":
        return Path(config.trainer.resume_from_path)
    latest = Path(config.trainer.default_local_dir) / "latest_checkpointed_iteration.txt"
    if not latest.is_file():
        return None
    return Path(config.trainer.default_local_dir) / f"global_step_{latest.read_text().strip()}"


def check_azr_config(config: DictConfig) -> None:
    """Fail early, naming the key or the file, on a config AZR cannot run as specified: no model,
    bad `azr.*` values, K above the buffer cap, a batch that is not 2 x B x task types, rollout.n
    other than 1, another advantage estimator or rollout manager, validation on, a seed buffer file
    or a resumed checkpoint's buffers that cannot be read."""
    if not config.actor_rollout_ref.model.get("path"):
        raise ValueError("actor_rollout_ref.model.path: name the model that self-plays")
    settings = selfplay_settings(config.azr)
    if settings.references > config.azr.max_programs:
        raise ValueError(
            f"azr.references={settings.references}: K references cannot be drawn from buffers of at most "
            f"azr.max_programs={config.azr.max_programs} tasks"
        )
    rows = 2 * settings.batch_size * len(settings.task_types)
    if config.data.train_batch_size != rows:
        raise ValueError(
            f"data.train_batch_size={config.data.train_batch_size}: one AZR step trains 2 roles x "
            f"azr.batch_size={settings.batch_size} x {len(settings.task_types)} task types = {rows} rows"
        )
    checks = {
        "actor_rollout_ref.rollout.n": (config.actor_rollout_ref.rollout.n, 1, "one rollout per proposal and per solve"),
        "algorithm.adv_estimator": (config.algorithm.adv_estimator, ESTIMATOR_NAME, "TRR++ (§3.3.5)"),
        "actor_rollout_ref.rollout.agent.agent_loop_manager_class": (
            config.actor_rollout_ref.rollout.agent.get("agent_loop_manager_class"),
            MANAGER_CLASS,
            "the self-play step runs in it",
        ),
        "trainer.balance_batch": (config.trainer.balance_batch, True, "RayAZRTrainer sets the TRR++ groups there"),
        "trainer.test_freq": (config.trainer.test_freq, -1, "AZR has no validation set"),
        "trainer.val_before_train": (config.trainer.val_before_train, False, "AZR has no validation set"),
    }
    checks["actor_rollout_ref.actor.use_prefix_grouper"] = (
        config.actor_rollout_ref.actor.get("use_prefix_grouper", False),
        False,
        "it would share the first row's prompt across each uid = task type/role group",
    )
    for key, (value, expected, why) in checks.items():
        if value != expected:
            raise ValueError(f"{key}={value}: AZR needs {expected} ({why})")
    initial_buffers(config.azr)
    checkpoint = latest_checkpoint(config)
    if checkpoint is not None:
        buffers = checkpoint_buffers(checkpoint)
        if not buffers.is_file():
            raise FileNotFoundError(
                f"checkpoint {checkpoint} has no {BUFFERS_FILE}: it was not written by the AZR trainer or is "
                "incomplete; resume from another (trainer.resume_mode=resume_path) or start afresh"
            )
        TaskBuffers.load(buffers)
