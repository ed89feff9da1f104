"""Train one R-Zero role with TRL's GRPOTrainer (the `trl` engine: single machine, CPU included).

    python -m recipe.rzero.main_trl --config-name rzero_challenger actor_rollout_ref.model.path=... ...
    python -m recipe.rzero.main_trl --config-name rzero_solver data.train_files=... ...

The same configs and overrides as `main_rzero` (verl); `trl_engine` maps them onto `GRPOConfig`.
The final model is written to `<trainer.default_local_dir>/model`, ready for the next stage
(`training.py`: the contract both engines keep).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from .config_checks import check_rzero_config
from .training import train_role
from .trl_engine import train


@hydra.main(config_path="config", config_name="rzero_challenger", version_base=None)
def main(config: DictConfig) -> None:
    train_role(config, train, check_rzero_config)


if __name__ == "__main__":
    main()
