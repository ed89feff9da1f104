"""`generate` and `label` end to end with the embedded model on vLLM's CPU build."""

import json
import os
import signal
import subprocess
import time

import psutil
import pyarrow.parquet as pq
import pytest

from recipe.rzero.prompts import SOLVER_SYSTEM_PROMPT
from tests.helpers import ROOT, run_command

pytestmark = pytest.mark.vllm

SMALL = ["--max-model-len", "1024", "--max-tokens", "48"]
QUESTIONS = [
    {"id": "a", "question": "What is 12 * 7?", "gold": "84"},
    {"id": "b", "question": "What is 2 + 3?", "gold": "5"},
    {"id": "c", "question": "What is 9 - 4?", "gold": "5"},
]


def test_generate_writes_questions_with_provenance(embedded_model, infer_python, tmp_path):
    output = tmp_path / "questions.jsonl"
    args = ["--model", embedded_model, "--output", output, "--num-questions", 6, "--chunk-size", 3, *SMALL]
    run_command(infer_python, "generate", *args)
    stats = json.loads((tmp_path / "questions.stats.json").read_text())
    kept = [json.loads(line) for line in output.read_text().splitlines()]
    assert stats["samples"] == 6 and stats["malformed"] + stats["duplicates"] + stats["kept"] == 6
    assert len(kept) == stats["kept"]
    for record in kept:
        assert record["question"] and record["challenger_answer"] and record["model"] == embedded_model
        assert {"seed", "sampling", "raw_output"} <= set(record)
    assert not (tmp_path / "questions.jsonl.chunks").exists()
    again = run_command(infer_python, "generate", *args)
    assert "up to date" in again.stdout  # a finished stage with the same inputs is a no-op


@pytest.fixture(scope="module")
def labelled(embedded_model, infer_python, tmp_path_factory):
    """`label` of `QUESTIONS` (m = 4, every labelled question kept, gold answers compared); its arguments."""
    directory = tmp_path_factory.mktemp("label")
    questions = directory / "questions.jsonl"
    questions.write_text("".join(json.dumps(record) + "\n" for record in QUESTIONS))
    args = ["--model", embedded_model, "--questions", questions, "--output", directory / "solver.parquet",
            "--samples", 4, "--no-filter", "--gold", *SMALL]  # fmt: skip
    run_command(infer_python, "label", *args)
    return {"directory": directory, "args": args}


def test_label_writes_verl_parquet_votes_and_stats(labelled):
    directory = labelled["directory"]
    votes = [json.loads(line) for line in (directory / "solver.votes.jsonl").read_text().splitlines()]
    stats = json.loads((directory / "solver.stats.json").read_text())
    assert [vote["id"] for vote in votes] == ["a", "b", "c"]
    assert sum(stats["p_hat_histogram"].values()) == stats["questions"] == 3
    kept = [vote for vote in votes if vote["kept"]]
    assert all(vote["label"] is not None for vote in kept)  # --no-filter keeps every labelled question
    assert stats["kept"] == len(kept)
    labelled_votes = [vote for vote in votes if vote["label"] is not None]
    expected = sum(vote["label_correct"] for vote in labelled_votes) / len(labelled_votes) if labelled_votes else None
    assert stats["pseudo_label_accuracy"] == expected
    rows = pq.read_table(directory / "solver.parquet").to_pylist()
    assert len(rows) == len(kept)
    for row, vote in zip(rows, kept):
        assert row["prompt"] == [
            {"role": "system", "content": SOLVER_SYSTEM_PROMPT},
            {"role": "user", "content": vote["question"]},
        ]
        assert row["reward_model"] == {"style": "rule", "ground_truth": vote["label"]}
        assert row["extra_info"]["p_hat"] == vote["p_hat"] and row["data_source"] == "rzero_solver"


def test_changed_parameters_do_not_overwrite(labelled, infer_python):
    output = labelled["directory"] / "solver.parquet"
    before = output.read_bytes()
    result = run_command(infer_python, "label", *labelled["args"], "--max-tokens", "40", check=False)
    assert result.returncode != 0 and "different max_tokens" in result.stderr
    assert output.read_bytes() == before


def test_label_on_a_benchmark_in_one_large_seeded_batch_reports_pseudo_label_accuracy(
    embedded_model, infer_python, benchmark_dir, tmp_path
):
    """16 questions × 8 seeded samples in one batch: vLLM on CPU must not split prefills (it crashed)."""
    output = tmp_path / "gsm8k.parquet"
    args = ["--model", embedded_model, "--benchmark", "gsm8k", "--data-dir", benchmark_dir, "--limit", 16]
    run_command(infer_python, "label", *args, "--output", output, "--samples", 8, "--gold", *SMALL, "--max-tokens", 16)
    stats = json.loads((tmp_path / "gsm8k.stats.json").read_text())
    assert stats["questions"] == 16
    assert "pseudo_label_accuracy" in stats and "pseudo_label_accuracy_kept" in stats


def test_interrupted_label_resumes_without_losing_or_repeating_work(embedded_model, infer_python, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps({"id": str(i), "question": f"What is {i} + {i}?"}) + "\n" for i in range(6)))
    output = tmp_path / "solver.parquet"
    args = ["--model", embedded_model, "--questions", questions, "--output", output, "--samples", 2, "--chunk-size", 2]
    command = [infer_python, "-m", "recipe.rzero", "label", *map(str, args + SMALL)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    chunk = tmp_path / "solver.parquet.chunks" / "chunk_00000.jsonl"
    deadline = time.monotonic() + 900
    while not chunk.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert chunk.exists(), "the first chunk never appeared"
    first_chunk = chunk.read_text()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists()  # nothing half-written in place of the result
    run_command(infer_python, "label", *args, *SMALL)
    votes = [json.loads(line) for line in (tmp_path / "solver.votes.jsonl").read_text().splitlines()]
    assert [vote["id"] for vote in votes] == [str(i) for i in range(6)]  # none lost, none twice
    assert [json.dumps(v) for v in votes[:2]] == [json.dumps(json.loads(l)) for l in first_chunk.splitlines()]


def test_malformed_question_file_is_a_clear_error(embedded_model, infer_python, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"question": "fine"}\n{"question": ""}\n')
    output = tmp_path / "solver.parquet"
    result = run_command(
        infer_python, "label", "--model", embedded_model, "--questions", questions, "--output", output, check=False
    )
    assert result.returncode != 0
    assert "record 2 has no non-empty 'question'" in result.stderr
    assert not output.exists() and not (tmp_path / "solver.parquet.chunks").exists()


def test_two_engine_replicas_share_the_work_survive_a_dead_replica_and_match_one_engine(
    embedded_model, infer_python, tmp_path
):
    """Issue 16: `label` on two replicas of one core each. One replica is killed after the first
    chunk: the stage fails naming it, keeps the finished chunks and leaves none of its processes;
    the re-run resumes with both replicas working, and the result equals one engine's on one core."""
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps({"id": str(i), "question": f"What is {i} + {2 * i + 1}?"}) + "\n"
                                 for i in range(12)))  # fmt: skip
    # fp32: the replicas' equality (same chunks, same seeds), not the kernels'. In bf16 without AMX a
    # few samples depend on the engine's earlier chunks (an avx512_bf16 Xeon: 2 of 36 differed between
    # one engine and two, prefix caching on or off, on either core; none in fp32; benchmarks/README.md).
    common = ["--model", embedded_model, "--questions", questions, "--samples", 3, "--chunk-size", 2, "--no-filter",
              "--format-example", "--last-number-fallback", "--dtype", "float32",
              *SMALL]  # fmt: skip  (answers extracted: votes compare texts)
    output = tmp_path / "two.parquet"
    args = [*common, "--output", output, "--replicas", 2]
    command = [infer_python, "-m", "recipe.rzero", "label", *map(str, args)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    chunks = tmp_path / "two.parquet.chunks"
    deadline = time.monotonic() + 600
    while not list(chunks.glob("chunk_*.jsonl")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    replicas = [child for child in psutil.Process(process.pid).children() if "spawn_main" in " ".join(child.cmdline())]
    assert len(replicas) == 2, "two replica processes run"
    victim_group = os.getpgid(replicas[1].pid)
    replicas[1].kill()
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 1 and "replica 1 (cores 1) failed" in stderr and "run the stage again" in stderr
    assert not output.exists() and list(chunks.glob("chunk_*.jsonl"))
    assert not [p for p in psutil.process_iter() if _group_of(p) == victim_group], "the dead replica's group is gone"

    run_command(infer_python, "label", *args)
    manifest = json.loads((tmp_path / "two.parquet.manifest.json").read_text())
    assert len(manifest["chunks_by_replica"]) == 2 and all(count > 0 for count in manifest["chunks_by_replica"])
    single = [*common, "--output", tmp_path / "one.parquet"]
    run_command(infer_python, "label", *single, env={"VLLM_CPU_OMP_THREADS_BIND": "0"})
    votes = [json.loads(line) for line in (tmp_path / "two.votes.jsonl").read_text().splitlines()]
    assert sum(answer is not None for vote in votes for answer in vote["answers"]) >= 30  # of 36
    assert (tmp_path / "one.votes.jsonl").read_text() == (tmp_path / "two.votes.jsonl").read_text()
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(output))


def _group_of(process) -> int | None:
    """The process group of a live process (None for a zombie: it runs nothing, and no init reaps it here)."""
    try:
        return None if process.status() == psutil.STATUS_ZOMBIE else os.getpgid(process.pid)
    except (ProcessLookupError, psutil.NoSuchProcess):
        return None
