"""verl RL parquet files of both roles: the schema, the Solver's rows and the Challenger's prompts.

verl's `RLHFDataset` reads `prompt` (chat messages), `data_source`, `ability`, `reward_model`
(`ground_truth`) and `extra_info`; the schema is explicit so that an empty file is still valid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rzero_rewards.code import task_from_record, task_record

from .artifacts import atomic_path
from .prompts import challenger_messages, code_proposer_messages, code_solver_messages, solver_messages

SOLVER_DATA_SOURCE = "rzero_solver"
CODE_SOLVER_DATA_SOURCE = "rzero_code_solver"
CHALLENGER_DATA_SOURCE = "rzero_challenger"
CODE_CHALLENGER_DATA_SOURCE = "rzero_code_challenger"
# The code task types a Challenger proposes (a program and one input; induction is AZR's, issue 14).
PROPOSED_TASK_TYPES = ("deduction", "abduction")


def solver_row(index: int, record: dict[str, Any], format_example: bool = False) -> dict[str, Any]:
    """One verl RL parquet row: chat prompt, rule reward with the pseudo-label as ground truth."""
    return {
        "data_source": SOLVER_DATA_SOURCE,
        "prompt": solver_messages(record["question"], format_example),
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": record["label"]},
        "extra_info": {
            "index": index,
            "question_id": record["id"],
            "p_hat": record["p_hat"],
            "votes": json.dumps(record["counts"], ensure_ascii=False),
            "origin": record["origin"],
            "gold": json.dumps(record["gold"], ensure_ascii=False) if record["gold"] else None,
        },
    }


def code_solver_row(index: int, record: dict[str, Any], format_example: bool = False) -> dict[str, Any]:
    """One verl RL parquet row of a code task (from `label-code`): the Solver's prompt of its type;
    the ground truth is the task as JSON (`task_type`, `program`, `input`, `output`,
    `allowed_imports`), which `reward_fn.code_solver_compute_score` verifies answers against. In
    `extra_info`, `p_hat` holds the verified success rate s̄ and `votes` the m verdicts."""
    task = task_from_record(record)
    truth = json.dumps({"task_type": record["task_type"], **task_record(task)})
    return {
        "data_source": CODE_SOLVER_DATA_SOURCE,
        "prompt": code_solver_messages(task, record["task_type"], format_example),
        "ability": "code",
        "reward_model": {"style": "rule", "ground_truth": truth},
        "extra_info": {
            "index": index,
            "question_id": record["id"],
            "p_hat": record["success_rate"],
            "votes": json.dumps(record["correct"]),
            "origin": record["origin"],
            "gold": None,
        },
    }


def write_rl_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write verl RL rows atomically with an explicit schema (so an empty set is still valid)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    schema = pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(message)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),
                        ("question_id", pa.string()),
                        ("p_hat", pa.float64()),
                        ("votes", pa.string()),
                        ("origin", pa.string()),
                        ("gold", pa.string()),
                        ("task_type", pa.string()),
                    ]
                ),
            ),
        ]
    )
    with atomic_path(path) as temporary:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), temporary)


def challenger_prompt_count(config: Any) -> int:
    """How many prompts a Challenger training of the composed `config` reads: `data.train_batch_size`
    per step × `trainer.total_training_steps` (e.g. 128 × 5 = 640), each row once."""
    steps = config.trainer.total_training_steps
    if steps is None:
        raise ValueError("trainer.total_training_steps is not set: the Challenger's prompt rows are batch × steps")
    return config.data.train_batch_size * steps


def challenger_prompt_rows(count: int, format_example: bool = False, task: str = "math") -> list[dict[str, Any]]:
    """`count` Challenger prompts (one per rollout group) of the run's `task`: `math`, the fixed
    question-setting chat; `code` (issue 13), the code proposer's chat of each task type of
    `PROPOSED_TASK_TYPES` in turn, the type in `extra_info.task_type` for the reward function.
    Raises ValueError for another task."""
    if task == "math":
        return [
            {
                "data_source": CHALLENGER_DATA_SOURCE,
                "prompt": challenger_messages(format_example),
                "ability": "question_generation",
                "reward_model": {"style": "rule", "ground_truth": ""},
                "extra_info": {"index": index},
            }
            for index in range(count)
        ]
    if task != "code":
        raise ValueError(f"the Challenger's task must be 'math' or 'code', got {task!r}")
    types = [PROPOSED_TASK_TYPES[index % len(PROPOSED_TASK_TYPES)] for index in range(count)]
    return [
        {
            "data_source": CODE_CHALLENGER_DATA_SOURCE,
            "prompt": code_proposer_messages(task_type, (), format_example),
            "ability": "code_proposal",
            "reward_model": {"style": "rule", "ground_truth": ""},
            "extra_info": {"index": index, "task_type": task_type},
        }
        for index, task_type in enumerate(types)
    ]
