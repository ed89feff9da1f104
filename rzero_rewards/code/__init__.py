"""Executor-verified code reasoning tasks (issue 13; Absolute Zero, arXiv 2505.03335): the sandbox,
the deduction / abduction / induction tasks, the proposer's and solver's rewards, and the prompts.
Pure Python like the rest of `rzero_rewards` (no verl, torch or vLLM); running code needs
bubblewrap and `pyseccomp` (see `sandbox.py`).
"""

from .policy import ALLOWED_IMPORTS, check_program
from .prompts import (
    TASK_TYPES,
    extract_blocks,
    induction_proposer_prompt,
    parse_induction_proposal,
    parse_proposal,
    parse_solver_answer,
    proposer_example,
    proposer_prompt,
    solver_example,
    solver_prompt,
)
from .rewards import FORMAT_PENALTY_MALFORMED, format_aware_reward, learnability_reward, solve_reward
from .sandbox import STATUSES, Execution, Limits, run_function, run_functions
from .tasks import (
    CodeTask,
    InductionTask,
    Validation,
    check_abductions,
    check_answers,
    check_deduction,
    check_inductions,
    make_induction_tasks,
    task_from_record,
    task_record,
    validate_tasks,
)

__all__ = [
    "ALLOWED_IMPORTS",
    "FORMAT_PENALTY_MALFORMED",
    "STATUSES",
    "TASK_TYPES",
    "CodeTask",
    "Execution",
    "InductionTask",
    "Limits",
    "Validation",
    "check_abductions",
    "check_answers",
    "check_deduction",
    "check_inductions",
    "check_program",
    "extract_blocks",
    "format_aware_reward",
    "induction_proposer_prompt",
    "learnability_reward",
    "make_induction_tasks",
    "parse_induction_proposal",
    "parse_proposal",
    "parse_solver_answer",
    "proposer_example",
    "proposer_prompt",
    "run_function",
    "run_functions",
    "solve_reward",
    "solver_example",
    "solver_prompt",
    "task_from_record",
    "task_record",
    "validate_tasks",
]
