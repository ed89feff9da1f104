"""The scalar rewards of R-Zero (arXiv 2508.05004) for the Challenger and the Solver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from .answers import extract_answer, extract_boxed, extract_question
from .equivalence import is_equivalent

UncertaintyScale = Literal["paper", "min"]

# The p̂ band of questions the Solver trains on (|p̂ − ½| ≤ δ = 0.25 keeps 3 to 7 agreeing answers of 10): the
# default of `in_band` and of the `label` stage. Its home is here, not in recipe/, because this pure-Python
# library uses it and imports nothing from the recipe; the recipe reads it from here.
P_HAT_BAND = (0.3, 0.7)


@dataclass(frozen=True)
class ChallengerRewardSettings:
    """How the Challenger's reward is computed; the defaults are the paper's and are defined only here.

    In a training run their one home is `reward.custom_reward_function.reward_kwargs` of
    `recipe/rzero/config/rzero_challenger.yaml` (a test checks the yaml against these defaults): verl
    passes that mapping to the per-rollout reward function, and both training engines read the batch
    terms from the same mapping (`from_kwargs`).
    """

    # "paper": 1 - 2|p̂ - ½| (Eq. 4); "min": min(p̂, 1 - p̂), the paper code's variant (`uncertainty_reward`).
    uncertainty_scale: UncertaintyScale = "paper"
    # Reward of a malformed output (no question or no boxed answer): 0 in the paper, -1 in its code.
    format_penalty: float = 0.0
    # Subtract the batch repetition penalty; False is the paper's "w/o repetition penalty" ablation.
    repetition_penalty: bool = True
    # BLEU distance below which average-linkage clustering merges two questions (`repetition_penalty`).
    repetition_threshold: float = 0.5
    # Clip at 0, the paper's max(0, uncertainty - penalty); the paper's code does not clip.
    clip: bool = True

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> ChallengerRewardSettings:
        """The settings named in `kwargs` (a reward function's keyword arguments or the `reward_kwargs`
        of a composed config; other keys are ignored), the defaults for the others."""
        return cls(**{setting.name: kwargs[setting.name] for setting in fields(cls) if setting.name in kwargs})


CHALLENGER_REWARD_DEFAULTS = ChallengerRewardSettings()


def uncertainty_reward(p_hat: float, scale: UncertaintyScale = CHALLENGER_REWARD_DEFAULTS.uncertainty_scale) -> float:
    """How close the Solver's self-consistency p̂ is to ½: the Challenger's main reward.

    - `"paper"`: 1 − 2|p̂ − ½| (the paper's Eq. 4), 0 at p̂ ∈ {0, 1} and 1 at p̂ = ½.
    - `"min"`: min(p̂, 1 − p̂), what the paper's public code computes (half the paper's value),
      kept for parity studies.
    """
    if not 0.0 <= p_hat <= 1.0:
        raise ValueError(f"p_hat must lie in [0, 1], got {p_hat!r}")
    if scale == "paper":
        return 1.0 - 2.0 * abs(p_hat - 0.5)
    if scale == "min":
        return min(p_hat, 1.0 - p_hat)
    raise ValueError(f"unknown uncertainty scale {scale!r}; expected 'paper' or 'min'")


def parse_challenger_output(response: str) -> tuple[str, str] | None:
    """The `(question, answer)` a Challenger wrote, or `None` if either part is missing.

    The answer is the last `\\boxed{}` *after* `</question>`, so a box inside the question's
    text is not mistaken for the Challenger's own answer.
    """
    question = extract_question(response)
    if question is None:
        return None
    answer = extract_boxed(response[response.rfind("</question>") :])
    if answer is None:
        return None
    return question, answer


def challenger_reward(
    response: str,
    p_hat: float | None,
    penalty: float = 0.0,
    *,
    scale: UncertaintyScale = CHALLENGER_REWARD_DEFAULTS.uncertainty_scale,
    format_penalty: float = CHALLENGER_REWARD_DEFAULTS.format_penalty,
    clip: bool = CHALLENGER_REWARD_DEFAULTS.clip,
) -> float:
    """The Challenger's reward for one rollout: uncertainty minus the repetition penalty.

    Args:
        response: the Challenger's raw output.
        p_hat: the Solver's agreement with its own majority answer on the question (`None` only
            for malformed outputs, which are never sent to the Solver).
        penalty: this rollout's repetition penalty (`repetition_penalty`), 0 to disable.
        scale: see `uncertainty_reward`.
        format_penalty: reward of a malformed output (no question or no boxed answer). The paper
            scores it 0; its public code uses −1.
        clip: clip at 0 as the paper's max(0, ·) does.
    """
    if parse_challenger_output(response) is None:
        return format_penalty
    if p_hat is None:
        raise ValueError("p_hat is required for a well-formed challenger output")
    reward = uncertainty_reward(p_hat, scale) - penalty
    return max(0.0, reward) if clip else reward


def in_band(p_hat: float, low: float = P_HAT_BAND[0], high: float = P_HAT_BAND[1]) -> bool:
    """Whether a question's p̂ is informative enough to train the Solver on (`P_HAT_BAND` by default:
    3 to 7 agreeing answers out of 10). Bounds are inclusive, with a little float slack."""
    eps = 1e-9
    return low - eps <= p_hat <= high + eps


def solver_reward(response: str, pseudo_label: str, last_number_fallback: bool = False) -> float:
    """1.0 if the last `\\boxed{}` answer of `response` is equivalent to `pseudo_label`, else 0.0.

    `last_number_fallback`: read the last number when there is no box (see `extract_answer`).
    """
    return 1.0 if is_equivalent(extract_answer(response, last_number_fallback), pseudo_label) else 0.0
