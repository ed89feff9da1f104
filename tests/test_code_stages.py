"""`generate-code` then `label-code` (issue 13, `TASK=code`) with the embedded coder model
(Qwen2.5-Coder-0.5B: SmolLM2 writes no valid program) on vLLM's CPU build and the real sandbox. The
stages run once per module (generation interrupted after its first chunk and resumed); the tests
check their files against a direct recomputation with `rzero_rewards.code`. The task file labelled
holds hand-written valid tasks beside whatever generation kept. Both stages use the one-shot format
example (`--format-example`): without it the coder model at T = 1.0 seldom writes AZR's blocks (a
run: 0 of 6 proposals well-formed, 2 of 16 answers with a block); with it, at these fixed seeds,
most proposals are well-formed and most answers have their block (benchmarks/README.md), which
the tests require with a margin. Whether the answers are right is the model's business, not
tested."""

import json
import os
import signal
import subprocess
import time

import pyarrow.parquet as pq
import pytest

from recipe.rzero.prompts import code_solver_messages
from recipe.rzero.reward_fn import code_solver_compute_score
from recipe.rzero.stages.generate_code import failure_kind
from recipe.rzero.stages.label_code import LabelCodeConfig, is_kept
from rzero_rewards.code import check_answers, task_from_record, validate_tasks
from tests.helpers import ROOT, run_command

pytestmark = pytest.mark.vllm

SMALL = ["--max-model-len", "1536", "--device", "cpu"]
SAMPLES = 2  # m: answers per task in label-code
HAND_WRITTEN = [
    {"id": "h1", "task_type": "deduction", "program": "def f(a, b):\n    return a * b + 1", "input": "3, 4",
     "output": "13"},
    {"id": "h2", "task_type": "abduction", "program": "def f(n):\n    return n % 5", "input": "7", "output": "2"},
    {"id": "h3", "task_type": "deduction", "program": "def f(s):\n    return s[::-1]", "input": "'abc'",
     "output": "'cba'"},
    {"id": "h4", "task_type": "abduction", "program": "def f(xs):\n    return sorted(xs)", "input": "[2, 1]",
     "output": "[1, 2]"},
]  # fmt: skip


@pytest.fixture(scope="module")
def generated(coder_model, infer_python, tmp_path_factory):
    """generate-code on 6 proposals in chunks of 3, killed once its first chunk is written, then resumed."""
    directory = tmp_path_factory.mktemp("generate_code")
    output = directory / "tasks.jsonl"
    args = ["--model", coder_model, "--output", output, "--num-tasks", 6, "--chunk-size", 3,
            "--max-tokens", 384, "--format-example", *SMALL]  # fmt: skip
    command = [infer_python, "-m", "recipe.rzero", "generate-code", *map(str, args)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    chunk = directory / "tasks.jsonl.chunks" / "chunk_00000.jsonl"
    deadline = time.monotonic() + 900
    while not chunk.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert chunk.exists(), "the first chunk never appeared"
    first_chunk = [json.loads(line) for line in chunk.read_text().splitlines()]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists()
    run_command(infer_python, "generate-code", *args)
    again = run_command(infer_python, "generate-code", *args)
    return {"output": output, "first_chunk": first_chunk, "again": again.stdout, "model": str(coder_model)}


@pytest.fixture(scope="module")
def labelled(generated, coder_model, infer_python, tmp_path_factory):
    """label-code, m = `SAMPLES`, on the hand-written tasks and the generated ones; every task kept (`--keep
    all`) so that the parquet has rows to check (the band's choice: `test_which_tasks_are_kept`)."""
    directory = tmp_path_factory.mktemp("label_code")
    tasks = directory / "tasks.jsonl"
    kept = generated["output"].read_text()
    tasks.write_text("".join(json.dumps(record) + "\n" for record in HAND_WRITTEN) + kept)
    output = directory / "solver.parquet"
    args = ["--model", coder_model, "--tasks", tasks, "--output", output, "--samples", SAMPLES, "--chunk-size", 5,
            "--max-tokens", 256, "--keep", "all", "--format-example", *SMALL]  # fmt: skip
    run_command(infer_python, "label-code", *args)
    return {
        "tasks": [json.loads(line) for line in tasks.read_text().splitlines()],
        "verdicts": [json.loads(line) for line in (directory / "solver.verdicts.jsonl").read_text().splitlines()],
        "stats": json.loads((directory / "solver.stats.json").read_text()),
        "rows": pq.read_table(output).to_pylist(),
    }


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_generate_code_writes_provenance_and_per_type_stats(generated):
    output = generated["output"]
    stats = json.loads(output.with_name("tasks.stats.json").read_text())
    proposals, kept = _lines(output.with_name("tasks.proposals.jsonl")), _lines(output)
    assert [p["index"] for p in proposals] == list(range(6))
    assert [p["task_type"] for p in proposals] == ["deduction", "abduction"] * 3
    assert stats["samples"] == 6 and stats["kept"] == len(kept)
    for task_type, counts in stats["by_type"].items():
        mine = [p for p in proposals if p["task_type"] == task_type]
        assert counts["proposals"] == len(mine) == 3
        assert counts["valid"] == sum(p["valid"] for p in mine)
        assert counts["valid_fraction"] == counts["valid"] / 3
        assert sum(counts["failures"].values()) == 3 - counts["valid"]
        assert counts["failures"] == {
            kind: sum(failure_kind(p["reason"]) == kind for p in mine if not p["valid"]) for kind in counts["failures"]
        }
        assert counts["kept"] + counts["duplicates"] == counts["valid"]
    for record in kept:
        assert record["model"] == generated["model"] and record["id"].startswith("c")
        assert {"seed", "sampling", "raw_output", "task_type", "allowed_imports"} <= set(record)
    assert not output.with_name("tasks.jsonl.chunks").exists()
    assert "up to date" in generated["again"]  # a finished stage with the same inputs is a no-op


def test_the_coder_model_follows_the_one_shot_format(generated, labelled):
    proposals = _lines(generated["output"].with_name("tasks.proposals.jsonl"))
    well_formed = [p for p in proposals if failure_kind(p["reason"]) != "malformed"]
    assert len(well_formed) >= 3 and any(p["valid"] for p in proposals)  # a run: 5 and 3 of 6
    answers = [answer for verdict in labelled["verdicts"] for answer in verdict["answers"]]
    assert sum(answer is not None for answer in answers) >= len(answers) / 4  # a run with m = 4: 16 of 28


def test_generate_code_resumes_from_its_finished_chunk(generated):
    proposals = _lines(generated["output"].with_name("tasks.proposals.jsonl"))
    assert len(generated["first_chunk"]) == 3
    for before, after in zip(generated["first_chunk"], proposals):
        assert {key: after[key] for key in before} == before  # the killed run's chunk is used, not remade


def test_every_kept_task_revalidates_to_the_same_output(generated):
    kept = _lines(generated["output"])
    validations = validate_tasks([(record["program"], record["input"]) for record in kept])
    assert [v.task.output if v.task else v.reason for v in validations] == [record["output"] for record in kept]
    proposals = _lines(generated["output"].with_name("tasks.proposals.jsonl"))
    parsed_invalid = [p for p in proposals if not p["valid"] and failure_kind(p["reason"]) != "malformed"]
    assert all(v.task is None for v in validate_tasks([(p["program"], p["input"]) for p in parsed_invalid]))


def test_label_code_verdicts_equal_a_direct_recomputation(labelled):
    tasks, verdicts = labelled["tasks"], labelled["verdicts"]
    assert [v["id"] for v in verdicts] == [t["id"] for t in tasks]
    checks = [(v["task_type"], task_from_record(v), answer) for v in verdicts for answer in v["answers"]]
    assert [c for v in verdicts for c in v["correct"]] == check_answers(checks)
    for verdict in verdicts:
        assert len(verdict["answers"]) == SAMPLES
        assert verdict["success_rate"] == sum(verdict["correct"]) / SAMPLES
        assert verdict["kept"]  # --keep all
    stats = labelled["stats"]
    assert stats["tasks"] == len(tasks) and stats["kept"] == sum(v["kept"] for v in verdicts)
    assert sum(stats["success_rate_histogram"].values()) == len(tasks)
    assert {t: c["tasks"] for t, c in stats["by_type"].items()} == {
        t: sum(v["task_type"] == t for v in verdicts) for t in ("abduction", "deduction")
    }


def test_label_code_rows_carry_the_task_and_the_reward_verifies_it(labelled):
    kept = [v for v in labelled["verdicts"] if v["kept"]]
    rows = labelled["rows"]
    assert len(rows) == len(kept)
    for row, verdict in zip(rows, kept):
        task = task_from_record(verdict)
        truth = json.loads(row["reward_model"]["ground_truth"])
        assert task_from_record(truth) == task and truth["task_type"] == verdict["task_type"]
        assert row["prompt"] == code_solver_messages(task, verdict["task_type"], format_example=True)
        assert row["data_source"] == "rzero_code_solver" and row["extra_info"]["p_hat"] == verdict["success_rate"]


@pytest.mark.parametrize(
    ("keep", "kept"),
    [("band", [False, False, True, True, True, False, False]), ("learnable", [False, True, True, True, True, True, False]),
     ("all", [True] * 7)],
)  # fmt: skip
def test_which_tasks_are_kept(keep, kept, embedded_model, tmp_path):
    (tmp_path / "tasks.jsonl").write_text("")
    config = LabelCodeConfig(model=embedded_model, tasks=tmp_path / "tasks.jsonl", output=tmp_path / "o.parquet", keep=keep)
    assert [is_kept(rate, config) for rate in (0.0, 0.2, 0.3, 0.5, 0.7, 0.8, 1.0)] == kept


@pytest.mark.parametrize(
    "task_type, answer, score",
    [
        ("deduction", "13", 1.0),
        ("deduction", "13.0", 1.0),  # compared as values
        ("deduction", "14", 0.0),
        ("abduction", "4, 3", 1.0),  # any input with that output: run in the sandbox
        ("abduction", "b=3, a=4", 1.0),
        ("abduction", "2, 6", 1.0),
        ("abduction", "1, 1", 0.0),
        ("abduction", "a, b", 0.0),  # not a literal
        ("deduction", None, 0.0),  # no block
    ],
)
def test_code_solver_reward_is_verified_by_the_executor(task_type, answer, score):
    truth = json.dumps({"task_type": task_type, **{k: HAND_WRITTEN[0][k] for k in ("program", "input", "output")}})
    tag = "output" if task_type == "deduction" else "input"
    response = "Let me think.\n" + (f"```{tag}\n{answer}\n```" if answer is not None else "It is 13.")
    result = code_solver_compute_score("rzero_code_solver", response, truth)
    assert result["score"] == result["acc"] == score
    assert result["answered"] == float(answer is not None)
