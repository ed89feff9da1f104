"""What one AZR step did, as a JSON record (the run's `azr_steps.jsonl`) and as `azr/*` metrics.

A record holds, per task type: the proposals made and validated (and why the others failed), the
mean s̄ and learnability reward of the valid ones (Eq. 4), the solve rate of the solver batch
(verified answers / B), how many of that batch were proposed this step, the buffer size after
the step, and one valid proposal as a sample. The report plots these per step; the trainer logs
them as `azr/<task type>/<name>` scalars through verl's logger.
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from rzero_rewards.code import learnability_reward, solve_reward

from .buffers import TASK_TYPES, Task
from .selfplay import StepResult

SCALARS = ("valid_rate", "success_rate", "learnability", "solve_rate", "new_solve_share", "buffer_size")


def _task_sample(task: Task) -> dict[str, Any]:
    if hasattr(task, "visible"):
        return {"program": task.program, "visible": [list(p) for p in task.visible], "message": task.message}
    return {"program": task.program, "input": task.input, "output": task.output}


def step_record(step: int, result: StepResult) -> dict[str, Any]:
    """The JSON record of `result`, the self-play step number `step` (verl's `global_steps`).

    `success_rate` and `learnability` are None for a type with no valid proposal; rates are in [0, 1].
    """
    by_type: dict[str, dict[str, Any]] = {}
    for task_type in dict.fromkeys(p.request.task_type for p in result.proposals):
        proposals = [(p, s) for p, s in zip(result.proposals, result.success_rates) if p.request.task_type == task_type]
        rates = [s for _, s in proposals if s is not None]
        solves = [row for row in result.rows if row.task_type == task_type and row.role == "solve"]
        requests = [r for r in result.solves if r.task_type == task_type]
        failures: dict[str, int] = {}
        for proposal, _ in proposals:
            if proposal.task is None:
                failures[proposal.failure] = failures.get(proposal.failure, 0) + 1
        sample = next((p.task for p, _ in proposals if p.task is not None), None)
        by_type[task_type] = {
            "proposals": len(proposals),
            "valid": len(rates),
            "valid_rate": len(rates) / len(proposals),
            "failures": failures,
            "success_rate": mean(rates) if rates else None,
            "learnability": mean(learnability_reward(s) for s in rates) if rates else None,
            "solve_rate": sum(row.reward == solve_reward(True) for row in solves) / len(solves),
            "new_solve_share": sum(r.new for r in requests) / len(requests),
            "buffer_size": result.buffer_sizes[task_type],
            "sample": _task_sample(sample) if sample is not None else None,
        }
    return {"step": step, "task_types": by_type}


def step_metrics(record: dict[str, Any]) -> dict[str, float]:
    """`azr/<task type>/<name>` for each scalar of `record` that is not None, and
    `azr/full_length_prompts` when the record has it (trained rows whose prompt filled
    `rollout.prompt_length`: probably cut from the left by verl)."""
    extra = {"azr/full_length_prompts": float(record["full_length_prompts"])} if "full_length_prompts" in record else {}
    return extra | {
        f"azr/{task_type}/{name}": float(values[name])
        for task_type, values in record["task_types"].items()
        if task_type in TASK_TYPES
        for name in SCALARS
        if values.get(name) is not None
    }
