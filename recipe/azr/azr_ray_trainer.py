"""`RayAZRTrainer`: verl's `RayPPOTrainer` with TRR++'s groups, AZR's step metrics and the task
buffers in its checkpoints. `fit()` is verl's, unchanged.

The step itself (propose, validate, learnability, solve, rewards) is `AZRAgentLoopManager`'s one
`generate_sequences` call. Between that call and the advantages, `fit()` balances the batch: there
this trainer writes each row's TRR++ group into `uid` (`trr.group_label`, the one per-row field
verl hands an advantage estimator), logs the step's `azr/*` metrics and appends its record to
`<trainer.default_local_dir>/azr_steps.jsonl`. `_save_checkpoint` writes the buffers into the
checkpoint folder before verl writes the checkpoint (verl marks a checkpoint complete last, in
`latest_checkpointed_iteration.txt`), and `_load_checkpoint` restores them, so a resumed run
continues with the buffers of its checkpoint's step.

Importing this module registers TRR++ in verl's estimator registry (`trr.register`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from verl import DataProto
from verl.trainer.ppo.ray_trainer import RayPPOTrainer

from .agent_loop import AZRAgentLoopManager
from .buffers import TaskBuffers
from .config import STEPS_FILE, check_azr_config, checkpoint_buffers, latest_checkpoint
from .step_record import step_metrics
from .trr import group_label, register

register()


def append_record(path: Path, record: dict) -> None:
    """Append `record` as one JSON line (a kill may cut the last line short: the report reads past it,
    `recipe.azr.report`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as steps:
        steps.write(json.dumps(record) + "\n")


class RayAZRTrainer(RayPPOTrainer):
    """RayPPOTrainer for AZR self-play (see the module doc); `check_azr_config` runs first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_azr_config(self.config)

    @property
    def manager(self) -> AZRAgentLoopManager:
        manager = self.async_rollout_manager
        if not isinstance(manager, AZRAgentLoopManager):
            raise TypeError(
                "actor_rollout_ref.rollout.agent.agent_loop_manager_class must be "
                f"recipe.azr.agent_loop.AZRAgentLoopManager, got {type(manager).__name__}"
            )
        return manager

    def _balance_batch(self, batch: DataProto, metrics: dict, **kwargs: Any) -> None:
        labels = zip(batch.non_tensor_batch["azr_task_type"], batch.non_tensor_batch["azr_role"])
        batch.non_tensor_batch["uid"] = np.array([group_label(*label) for label in labels], dtype=object)
        record = batch.meta_info.pop("azr_record")
        metrics.update(step_metrics(record))
        append_record(Path(self.config.trainer.default_local_dir) / STEPS_FILE, record)
        super()._balance_batch(batch, metrics, **kwargs)

    def _save_checkpoint(self) -> None:
        step_dir = Path(self.config.trainer.default_local_dir) / f"global_step_{self.global_steps}"
        os.makedirs(step_dir, exist_ok=True)
        self.manager.buffers.save(checkpoint_buffers(step_dir))
        super()._save_checkpoint()

    def _load_checkpoint(self) -> int | None:
        loaded = super()._load_checkpoint()
        checkpoint = latest_checkpoint(self.config) if self.global_steps > 0 else None
        if checkpoint is not None:
            self.manager.buffers = TaskBuffers.load(checkpoint_buffers(checkpoint))
            print(f"[azr] buffers of {checkpoint}: {self.manager.buffers.sizes()}")
        return loaded
