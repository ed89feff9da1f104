"""AZR's rewards for the proposer and the solver (Absolute Zero, arXiv 2505.03335, §3.1, Eqs. 4-6)."""

from __future__ import annotations

FORMAT_PENALTY_WRONG = -0.5  # well-formed but not passable
FORMAT_PENALTY_MALFORMED = -1.0


def learnability_reward(success_rate: float) -> float:
    """The proposer's reward: `1 - s̄` when the solver's success rate `s̄` over its n samples is
    strictly between 0 and 1, else 0: a task the solver always or never solves teaches nothing
    (AZR Eq. 4). Raises ValueError outside [0, 1].

    >>> [learnability_reward(s) for s in (0.0, 0.25, 0.5, 1.0)]
    [0.0, 0.75, 0.5, 0.0]
    """
    if not 0.0 <= success_rate <= 1.0:
        raise ValueError(f"a success rate lies in [0, 1], got {success_rate}")
    return 1.0 - success_rate if 0.0 < success_rate < 1.0 else 0.0


def solve_reward(correct: bool) -> float:
    """The solver's reward: 1 when the executor verified the answer, else 0 (AZR Eq. 5)."""
    return 1.0 if correct else 0.0


def format_aware_reward(role_reward: float, well_formed: bool) -> float:
    """AZR's format rule (Eq. 6), an option: the role's reward when the response is passable,
    -0.5 when it is well-formed but not passable, -1 when it is malformed.

    "Passable" is read as a positive role reward, as in AZR's public code: a correct solver answer,
    or a valid proposal with a learnability above 0. "Well-formed" is the caller's: a solver
    answer in its block, or a proposal that parses and validates.

    >>> [format_aware_reward(r, w) for r, w in ((0.75, True), (0.0, True), (0.0, False))]
    [0.75, -0.5, -1.0]
    """
    if not well_formed:
        return FORMAT_PENALTY_MALFORMED
    return role_reward if role_reward > 0 else FORMAT_PENALTY_WRONG
