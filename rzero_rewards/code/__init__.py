"""Executor-verified code reasoning tasks (issue 13): the sandbox, AZR's three task types, rewards
and prompts. Pure Python like the rest of `rzero_rewards` (no verl, torch or vLLM); running code
needs bubblewrap and `pyseccomp` (see `sandbox.py`).
"""

from .policy import ALLOWED_IMPORTS, check_program
from .sandbox import STATUSES, Execution, Limits, run_function, run_functions

__all__ = [
    "ALLOWED_IMPORTS",
    "STATUSES",
    "Execution",
    "Limits",
    "check_program",
    "run_function",
    "run_functions",
]
