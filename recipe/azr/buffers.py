"""AZR's task buffers: the validated tasks of each type that proposals are conditioned on (issue 14).

Absolute Zero (arXiv 2505.03335) keeps one buffer per task type (§3.3.1–3.3.2, Algorithm 1):

- Without a seeding stage, every buffer starts from the paper's single "zero triple" (Fig. 5): the
  identity function on "Hello World"; the induction buffer holds the identity with six inputs and
  the message of the authors' code (`TaskBuffers.seeded`).
- Each proposal is conditioned on K references drawn uniformly from its type's buffer, without
  replacement (K = 6 in the paper's Table 3; recency sampling "observed potential collapse", §D.3).
- Every valid proposal joins its buffer, whatever its learnability (§3.3.2); a buffer holds at most
  `max_size` tasks (Table 3: 16,384). The paper gives the cap, not what leaves: here the oldest do.
- An induction proposal is asked about a program drawn from the deduction and abduction buffers
  together (§3.2).
- A solver batch short of valid tasks is filled by uniform sampling from the buffer (§3.3.2).

Buffers are part of a run's checkpoint (`save`/`load`: atomic JSON), so a resumed run continues with
the same buffers; `load` names the file and what is wrong with it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from recipe.rzero.artifacts import write_json
from rzero_rewards.code import ALLOWED_IMPORTS, CodeTask, InductionTask, task_from_record, task_record

TASK_TYPES = ("deduction", "abduction", "induction")
Task = Union[CodeTask, InductionTask]
FORMAT_VERSION = 1
MAX_SIZE = 16_384  # Table 3, "Max Programs"

IDENTITY = "def f(x):\n    return x"
# Fig. 5: the zero triple. Induction: the identity on six inputs (three shown, three held out).
ZERO_TRIPLE = CodeTask(IDENTITY, "'Hello World'", "'Hello World'")
IDENTITY_INPUTS = ("'Hello World'", "1", "[1, 2, 3]", "(4, 'b')", "{'k': 0.5}", "None")
IDENTITY_MESSAGE = "Write a function that returns whatever you input."


def _induction_record(task: InductionTask) -> dict[str, object]:
    return {"program": task.program, "visible": [list(pair) for pair in task.visible],
            "hidden": [list(pair) for pair in task.hidden], "message": task.message,
            "allowed_imports": sorted(task.allowed_imports)}  # fmt: skip


def _induction_from_record(record: dict) -> InductionTask:
    pairs = {key: record.get(key) for key in ("visible", "hidden")}
    if not isinstance(record.get("program"), str) or not isinstance(record.get("message"), str):
        raise ValueError("an induction task needs a string 'program' and 'message'")
    for key, value in pairs.items():
        if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
            raise ValueError(f"an induction task needs {key!r} as a list of [input, output] pairs")
    allowed = record.get("allowed_imports")
    return InductionTask(
        record["program"],
        tuple(tuple(pair) for pair in pairs["visible"]),
        tuple(tuple(pair) for pair in pairs["hidden"]),
        record["message"],
        ALLOWED_IMPORTS if allowed is None else frozenset(allowed),
    )


@dataclass
class TaskBuffers:
    """Validated tasks per type: `tasks["deduction"]` and `tasks["abduction"]` hold `CodeTask`s,
    `tasks["induction"]` `InductionTask`s, oldest first; at most `max_size` each."""

    tasks: dict[str, list[Task]]
    max_size: int = MAX_SIZE
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.tasks) - set(TASK_TYPES))
        if unknown:
            raise ValueError(f"unknown task type(s) {', '.join(unknown)}; known: {', '.join(TASK_TYPES)}")
        if self.max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {self.max_size}")
        for task_type in TASK_TYPES:
            if not self.tasks.get(task_type):
                raise ValueError(f"the {task_type} buffer is empty: every proposal needs a reference task")

    @classmethod
    def seeded(cls, max_size: int = MAX_SIZE, seed: int = 0) -> TaskBuffers:
        """Buffers holding only the zero triple (and the identity's induction task)."""
        pairs = tuple((text, text) for text in IDENTITY_INPUTS)  # the identity returns its input
        induction = InductionTask(IDENTITY, pairs[:3], pairs[3:], IDENTITY_MESSAGE)
        tasks = {"deduction": [ZERO_TRIPLE], "abduction": [ZERO_TRIPLE], "induction": [induction]}
        return cls(tasks, max_size, random.Random(seed))

    def _check_type(self, task_type: str) -> None:
        if task_type not in TASK_TYPES:
            raise ValueError(f"unknown task type {task_type!r}; known: {', '.join(TASK_TYPES)}")

    def add(self, task_type: str, tasks: Iterable[Task]) -> None:
        """Append valid tasks to `task_type`'s buffer; beyond `max_size` the oldest leave."""
        self._check_type(task_type)
        buffer = self.tasks[task_type]
        buffer.extend(tasks)
        del buffer[: max(0, len(buffer) - self.max_size)]

    def references(self, task_type: str, k: int) -> list[Task]:
        """K references for one proposal: `min(k, size)` distinct tasks drawn uniformly."""
        self._check_type(task_type)
        buffer = self.tasks[task_type]
        return self._rng.sample(buffer, min(k, len(buffer)))

    def programs(self, count: int) -> list[CodeTask]:
        """`count` tasks drawn uniformly with replacement from the deduction and abduction buffers
        together, whose programs induction proposals are asked about (§3.2: p ~ D_abd ∪ D_ded)."""
        return self._rng.choices(self.tasks["deduction"] + self.tasks["abduction"], k=count)

    def fill(self, task_type: str, count: int) -> list[Task]:
        """`count` tasks drawn uniformly with replacement, to fill a short solver batch."""
        self._check_type(task_type)
        return self._rng.choices(self.tasks[task_type], k=count)

    def sizes(self) -> dict[str, int]:
        return {task_type: len(self.tasks[task_type]) for task_type in TASK_TYPES}

    def save(self, path: Path) -> None:
        """Write the buffers and the sampler's state to `path` as JSON, atomically."""
        records = {
            task_type: [
                _induction_record(task) if task_type == "induction" else task_record(task)
                for task in self.tasks[task_type]
            ]
            for task_type in TASK_TYPES
        }
        version, state, gauss = self._rng.getstate()
        rng = [version, list(state), gauss]
        write_json(path, {"version": FORMAT_VERSION, "max_size": self.max_size, "rng": rng, "tasks": records})

    @classmethod
    def load(cls, path: Path) -> TaskBuffers:
        """The buffers saved at `path`. Raises `FileNotFoundError` or `ValueError` naming the file and
        the fault: empty, not JSON, another format version, an unknown task type, an empty buffer, a
        malformed task (with its type and position)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"buffer file {path} does not exist")
        text = path.read_text()
        if not text.strip():
            raise ValueError(f"buffer file {path} is empty")
        try:
            saved = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"buffer file {path} is not valid JSON ({error.msg}, line {error.lineno})") from None
        if not isinstance(saved, dict) or saved.get("version") != FORMAT_VERSION:
            raise ValueError(f"buffer file {path} is not an AZR buffer file of version {FORMAT_VERSION}")
        tasks: dict[str, list[Task]] = {}
        for task_type, records in saved.get("tasks", {}).items():
            read = _induction_from_record if task_type == "induction" else task_from_record
            tasks[task_type] = []
            for position, record in enumerate(records if task_type in TASK_TYPES else []):
                try:
                    tasks[task_type].append(read(record))
                except (ValueError, TypeError, AttributeError) as error:
                    raise ValueError(f"buffer file {path}: {task_type} task {position} is malformed: {error}") from None
        try:
            rng = random.Random()
            version, state, gauss = saved["rng"]
            rng.setstate((version, tuple(state), gauss))
            return cls(tasks, saved.get("max_size", MAX_SIZE), rng)
        except ValueError as error:
            raise ValueError(f"buffer file {path}: {error}") from None
        except (KeyError, TypeError):
            raise ValueError(f"buffer file {path} has no valid sampler state") from None

