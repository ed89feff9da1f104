"""rzero_rewards: the pure-Python rewards of R-Zero, shared by every stage and training engine.

No verl, torch or vLLM import: answer extraction, answer equivalence (math-verify under a hard
timeout), majority voting, the Challenger's uncertainty reward, batch repetition penalty and their settings, the
Solver's pseudo-label reward, the solver-data filter and the per-step reward metrics of both roles.
"""

from .answers import extract_answer, extract_boxed, extract_question
from .challenger_batch import ChallengerBatchScores, score_challenger_batch, score_challenger_rollouts
from .equivalence import equivalence_stats, is_equivalent, normalize_answer, reset_equivalence_stats
from .repetition import repetition_penalty
from .rewards import (
    CHALLENGER_REWARD_DEFAULTS,
    P_HAT_BAND,
    ChallengerRewardSettings,
    challenger_reward,
    in_band,
    parse_challenger_output,
    solver_reward,
    uncertainty_reward,
)
from .step_metrics import step_reward_metrics
from .voting import Vote, majority_vote

__all__ = [
    "CHALLENGER_REWARD_DEFAULTS",
    "P_HAT_BAND",
    "ChallengerBatchScores",
    "ChallengerRewardSettings",
    "Vote",
    "challenger_reward",
    "equivalence_stats",
    "extract_answer",
    "extract_boxed",
    "extract_question",
    "in_band",
    "is_equivalent",
    "majority_vote",
    "normalize_answer",
    "parse_challenger_output",
    "repetition_penalty",
    "reset_equivalence_stats",
    "score_challenger_batch",
    "score_challenger_rollouts",
    "solver_reward",
    "step_reward_metrics",
    "uncertainty_reward",
]
