"""AZR's task buffers (issue 14): the zero triple, K references, the cap, and a checkpoint that a
resumed run reads back exactly, or refuses naming the file and the fault."""

import json

import pytest

from recipe.azr.buffers import ZERO_TRIPLE, TaskBuffers
from rzero_rewards.code import CodeTask, check_inductions, validate_tasks


def test_the_seed_tasks_are_valid_for_the_real_executor():
    buffers = TaskBuffers.seeded()
    assert buffers.sizes() == {"deduction": 1, "abduction": 1, "induction": 1}
    (validation,) = validate_tasks([(ZERO_TRIPLE.program, ZERO_TRIPLE.input)])
    assert validation.task == ZERO_TRIPLE  # the sandbox computes the same output, deterministically
    (induction,) = buffers.tasks["induction"]
    assert check_inductions([(induction, induction.program)]) == [True]
    assert len(induction.visible) == len(induction.hidden) == 3


def test_references_are_distinct_uniform_draws_and_the_oldest_leave_first():
    buffers = TaskBuffers.seeded(max_size=5, seed=1)
    new = [CodeTask(f"def f(x):\n    return x + {n}", "1", str(1 + n)) for n in range(6)]
    buffers.add("deduction", new)
    assert buffers.tasks["deduction"] == new[1:]  # the zero triple and new[0] left
    draws = [buffers.references("deduction", 3) for _ in range(300)]
    assert all(len(set(map(id, draw))) == 3 for draw in draws)
    counts = {task.program: sum(task in draw for draw in draws) for task in new[1:]}
    assert all(140 < count < 220 for count in counts.values()), counts  # 3/5 of 300 = 180 each
    assert buffers.references("abduction", 6) == [ZERO_TRIPLE]  # fewer than K: all of them
    assert buffers.fill("abduction", 4) == [ZERO_TRIPLE] * 4
    with pytest.raises(ValueError, match="unknown task type 'sorting'; known: deduction, abduction, induction"):
        buffers.add("sorting", new)


def test_a_saved_checkpoint_resumes_the_same_buffers_and_draws(tmp_path):
    buffers = TaskBuffers.seeded(seed=7)
    buffers.add("abduction", [CodeTask("def f(s):\n    return s[::-1]", "'ab'", "'ba'", frozenset({"math"}))])
    buffers.references("abduction", 1)
    buffers.save(tmp_path / "buffers.json")
    resumed = TaskBuffers.load(tmp_path / "buffers.json")
    assert resumed.tasks == buffers.tasks and resumed.max_size == buffers.max_size
    assert [resumed.references("abduction", 2) for _ in range(5)] == [buffers.references("abduction", 2) for _ in range(5)]
    assert not list(tmp_path.glob("*.partial"))


def _saved(tmp_path, edit) -> str:
    path = tmp_path / "buffers.json"
    TaskBuffers.seeded().save(path)
    saved = json.loads(path.read_text())
    edit(saved)
    path.write_text(json.dumps(saved))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["tasks"].update(sorting=[]), "unknown task type(s) sorting; known: deduction, abduction, induction"),
        (lambda s: s["tasks"].update(abduction=[]), "the abduction buffer is empty"),
        (lambda s: s["tasks"]["deduction"][0].pop("program"), "deduction task 0 is malformed: a code task needs a string 'program'"),
        (lambda s: s["tasks"]["induction"][0].update(hidden=[["1"]]), "induction task 0 is malformed"),
        (lambda s: s.update(version=99), "not an AZR buffer file of version 1"),
        (lambda s: s.pop("rng"), "has no valid sampler state"),
    ],
)  # fmt: skip
def test_a_bad_buffer_file_is_a_clear_error(tmp_path, edit, message):
    path = _saved(tmp_path, edit)
    with pytest.raises(ValueError, match="buffer file .*buffers.json") as error:
        TaskBuffers.load(path)
    assert message in str(error.value)


def test_an_empty_or_truncated_buffer_file_is_a_clear_error(tmp_path):
    path = tmp_path / "buffers.json"
    path.write_text("")
    with pytest.raises(ValueError, match=f"buffer file {path} is empty"):
        TaskBuffers.load(path)
    TaskBuffers.seeded().save(path)
    path.write_text(path.read_text()[:200])  # a copy cut short
    with pytest.raises(ValueError, match=f"buffer file {path} is not valid JSON"):
        TaskBuffers.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TaskBuffers.load(tmp_path / "missing.json")
