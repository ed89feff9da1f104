"""The defaults of everything that samples from a model outside the trainer, defined once.

Read by the stage CLIs (`stages/generate.py`, `stages/label.py`, `evaluation/runner.py`), the solver
service and its client (`solver_service.py`, `solver_client.py`), the Challenger's reward
(`reward_fn.py`) and the vLLM engine (`vllm_engine.py`). Training settings live in the Hydra configs
(`config/*.yaml`); where a training config repeats one of these values (the Challenger's
`reward_kwargs`, `data.max_response_length`), `tests/test_defaults.py` checks that the two agree.
Values are the paper's (arXiv 2508.05004) unless noted.
"""

from __future__ import annotations

from typing import Literal

from rzero_rewards import P_HAT_BAND  # its home is rzero_rewards/rewards.py: the reward library uses it too

__all__ = ["MAX_TOKENS", "MEMORY_SHARE_HELP", "P_HAT_BAND", "SOLVER_SAMPLES", "VLLM_MEMORY_SHARE", "vllm_memory_share"]

# m: Solver answers per question, for the majority vote and p̂ (the Challenger's reward and `label`).
SOLVER_SAMPLES = 10

# Longest response of either role in tokens: a Challenger's question and answer, a Solver's answer,
# an evaluated answer (the paper's 4096, also the configs' `data.max_response_length`).
MAX_TOKENS = 4096

# vLLM's share of device memory per engine when not given (ours, not the paper's): on GPU for each
# engine; on CPU for all engines of a stage or service together, split evenly over them.
VLLM_MEMORY_SHARE = {"cpu": 0.25, "cuda": 0.85}


def vllm_memory_share(device: Literal["cpu", "cuda"], replicas: int = 1) -> float:
    """The default vLLM memory share of one of `replicas` engines on `device` (`VLLM_MEMORY_SHARE`)."""
    return VLLM_MEMORY_SHARE[device] / replicas if device == "cpu" else VLLM_MEMORY_SHARE[device]


MEMORY_SHARE_HELP = (
    f"vLLM memory share of each engine; default {VLLM_MEMORY_SHARE['cpu']} on CPU split over the replicas, "
    f"{VLLM_MEMORY_SHARE['cuda']} on GPU"
)
