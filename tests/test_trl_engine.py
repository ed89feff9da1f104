"""The trl engine: verl's names mapped onto GRPOConfig, and real GRPO training of SmolLM2 on CPU."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from recipe.rzero.__main__ import command_module
from recipe.rzero.cli import build_parser
from recipe.rzero.report import read_scalars
from recipe.rzero.reward_fn import challenger_reward_settings
from recipe.rzero.rl_data import solver_row, write_rl_parquet
from recipe.rzero.trl_engine import batch_sizes, grpo_config
from rzero_rewards.step_metrics import EQUAL_REWARD_GROUPS, REWARD_MEAN
from tests.helpers import ROOT
from tests.test_recipe_config import assert_chained, compose_recipe, planned_commands


def test_paper_settings_map_onto_grpo_config(tmp_path):
    config = compose_recipe(
        "rzero_challenger",
        [
            "actor_rollout_ref.model.path=m",
            "data.train_files=x.parquet",
            "reward.custom_reward_function.reward_kwargs.solver_urls=http://h:1",
            f"trainer.default_local_dir={tmp_path}",
        ],
    )
    arguments = grpo_config(config)
    # One verl step: 128 prompts × 4 questions in one optimizer update.
    assert arguments.num_generations == 4 and arguments.generation_batch_size == 512
    assert arguments.per_device_train_batch_size * arguments.gradient_accumulation_steps == 512
    assert arguments.max_steps == 5 and arguments.save_steps == 5
    assert arguments.learning_rate == 1e-6 and arguments.beta == 0.01
    assert arguments.epsilon == arguments.epsilon_high == 0.2
    assert arguments.loss_type == "dapo" and arguments.scale_rewards == "group"
    assert arguments.temperature == 1.0 and arguments.top_p == 0.99 and arguments.top_k == 0
    assert arguments.max_completion_length == 4096 and arguments.weight_decay == 0.01
    assert arguments.lr_scheduler_type == "constant" and arguments.max_grad_norm == 1.0
    assert arguments.report_to == ["tensorboard"]


def test_mini_and_micro_batches():
    config = compose_recipe(
        "rzero_solver",
        ["data.train_batch_size=8", "actor_rollout_ref.actor.ppo_mini_batch_size=4",
         "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=5"],
    )  # fmt: skip
    # 2 updates per step, each 4 prompts × 5 answers = 20 completions in micro batches of 5.
    assert batch_sizes(config) == {
        "per_device_train_batch_size": 5,
        "gradient_accumulation_steps": 4,
        "steps_per_generation": 8,
        "updates_per_step": 2,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["algorithm.adv_estimator=gae"], "algorithm.adv_estimator=gae"),
        (["reward.reward_model.enable=true"], "reward.reward_model.enable=true"),
        (["actor_rollout_ref.actor.kl_loss_type=mse"], "kl_loss_type=mse"),
        (["actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=7"], "ppo_micro_batch_size_per_gpu=7"),
        (["data.train_batch_size=6", "actor_rollout_ref.actor.ppo_mini_batch_size=4"], "train_batch_size=6"),
    ],
)
def test_settings_trl_cannot_honour_are_refused(overrides, message):
    config = compose_recipe("rzero_solver", overrides)
    with pytest.raises(ValueError, match=message):
        grpo_config(config)


def _solver_data(path):
    questions = [
        ("What is 2 + 3?", "5"), ("What is 4 × 3?", "12"), ("What is 10 − 7?", "3"), ("What is 9 + 9?", "18")
    ]  # fmt: skip
    rows = [
        solver_row(i, {"question": q, "label": a, "id": f"q{i}", "p_hat": 0.5, "counts": {a: 2}, "origin": "test",
                       "gold": None}, format_example=True)  # fmt: skip
        for i, (q, a) in enumerate(questions)
    ]
    write_rl_parquet(path, rows)


def _train_command(model, data, output, steps):
    return [
        sys.executable, "-m", "recipe.rzero.main_trl", "--config-name", "rzero_solver",
        f"hydra.run.dir={output}/hydra", f"actor_rollout_ref.model.path={model}", f"data.train_files={data}",
        f"trainer.default_local_dir={output}", f"trainer.total_training_steps={steps}", "trainer.save_freq=1",
        "data.train_batch_size=2", "actor_rollout_ref.rollout.n=2", "data.max_response_length=24",
        "actor_rollout_ref.actor.optim.lr=1e-4",
    ]  # fmt: skip


def test_solver_training_resumes_after_a_kill_and_changes_the_weights(embedded_model, tmp_path):
    """Kill the trainer after its first checkpoint; the re-run continues from it, not from step 0."""
    import torch
    from transformers import AutoModelForCausalLM

    data, output = tmp_path / "solver.parquet", tmp_path / "solver_checkpoints"
    _solver_data(data)
    command = _train_command(embedded_model, data, output, steps=3)
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 900
    while not (output / "checkpoint-1" / "trainer_state.json").is_file():
        assert first.poll() is None, f"training ended before its first checkpoint:\n{first.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, "no checkpoint after 15 minutes"
        time.sleep(1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not (output / "model").exists()

    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    state = json.loads((output / "checkpoint-3" / "trainer_state.json").read_text())
    steps = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    assert steps == [1, 2, 3]  # step 1 from the killed run, 2 and 3 after resuming: none lost, none repeated
    assert all("rewards/solver/mean" in entry for entry in state["log_history"] if "loss" in entry)
    for entry in (entry for entry in state["log_history"] if "loss" in entry):  # the rzero/* names are TRL's values
        assert entry[REWARD_MEAN] == pytest.approx(entry["rewards/solver/mean"], abs=1e-6)
        assert entry[EQUAL_REWARD_GROUPS] == pytest.approx(entry["frac_reward_zero_std"], abs=1e-6)
    assert list((output / "tensorboard").rglob("events.out.tfevents.*"))

    trained = AutoModelForCausalLM.from_pretrained(output / "model", dtype=torch.float32)
    base = AutoModelForCausalLM.from_pretrained(embedded_model, dtype=torch.float32)
    changed = [
        name for (name, a), (_, b) in zip(base.named_parameters(), trained.named_parameters()) if not torch.equal(a, b)
    ]
    assert changed, "the trained model equals the base model"
    # A finished stage is not trained again.
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "training already finished" in again.stdout


def test_empty_training_set_is_a_clear_error(embedded_model, tmp_path):
    data = tmp_path / "empty.parquet"
    write_rl_parquet(data, [])
    result = subprocess.run(
        _train_command(embedded_model, data, tmp_path / "out", steps=1), cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0 and f"no training rows in {data}" in result.stderr
    assert not (tmp_path / "out" / "model").exists()



@pytest.mark.parametrize("flags", [[], ["--base-challenger", "--no-repetition-penalty", "--no-filter"]])
def test_cpu_example_plan_composes_and_chains(flags, tmp_path):
    """Every training command of `run_smollm2_cpu.sh --dry-run` maps onto TRL; each input was produced earlier."""
    commands = planned_commands("run_smollm2_cpu.sh", tmp_path, *flags)
    trainings = [c for c in commands if "recipe.rzero.main_trl" in c]
    assert len(trainings) == (1 if "--base-challenger" in flags else 2)
    for command in trainings:
        position = command.index("--config-name")
        config = compose_recipe(command[position + 1], command[position + 2 :])
        grpo_config(config)
        if config.rzero.role == "challenger":
            assert challenger_reward_settings(config).repetition_penalty == ("--no-repetition-penalty" not in flags)
    labels = [c for c in commands if c[1:4] == ["-m", "recipe.rzero", "label"] and "--questions" in c]
    assert ("--no-filter" in labels[0]) == ("--no-filter" in flags)
    assert_chained(commands)
    stages = [c for c in commands if c[1:3] == ["-m", "recipe.rzero"]]
    assert {c[3] for c in stages} >= {"evaluate", "generate", "label"}
    for command in stages:  # each stage's options as `rzero NAME` parses them: a misspelt one fails here
        build_parser(command_module(command[3])[1]).parse_args(command[4:])


def test_the_cpu_main_jobs_challenger_trains_against_a_served_solver(solver_urls, tmp_path, monkeypatch):
    """The CPU main job's own Challenger commands, one step (the rest of its budgets): its prompts, then
    TRL's GRPO with the asynchronous reward scored by a live vLLM Solver. TRL logs the rzero/* step
    metrics the report reads, its own reward mean among them, and saves the model."""
    for name, value in {"CHALLENGER_STEPS": "1", "PROMPTS_PER_STEP": "2", "REWARD_SAMPLES": "2"}.items():
        monkeypatch.setenv(name, value)
    commands = planned_commands("run_smollm2_cpu.sh", tmp_path)
    prompts = next(c for c in commands if c[1:4] == ["-m", "recipe.rzero", "challenger-prompts"])
    training = next(c for c in commands if "recipe.rzero.main_trl" in c and "rzero_challenger" in c)
    urls = "reward.custom_reward_function.reward_kwargs.solver_urls="
    training = [f"{urls}'{solver_urls}'" if a.startswith(urls) else a for a in training]
    subprocess.run(prompts, cwd=ROOT, check=True, capture_output=True)
    result = subprocess.run(training, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    output = tmp_path / "run" / "iter_1" / "challenger_checkpoints"
    assert (output / "model" / "config.json").is_file()
    state = json.loads((output / "checkpoint-1" / "trainer_state.json").read_text())
    (entry,) = [entry for entry in state["log_history"] if "loss" in entry]
    (trl_mean,) = [entry[key] for key in entry if key.startswith("rewards/") and key.endswith("/mean")]
    assert entry[REWARD_MEAN] == pytest.approx(trl_mean, abs=1e-6)
    assert entry[EQUAL_REWARD_GROUPS] == pytest.approx(entry["frac_reward_zero_std"], abs=1e-6)
    curves = read_scalars(output / "tensorboard")
    assert [step for step, _ in curves["rzero/format_failure_rate"]] == [1]


def test_the_trl_path_imports_no_verl():
    """Issue 15: the TRL engine's entry point and engine load neither verl nor its trainer."""
    code = "import sys, recipe.rzero.main_trl, recipe.rzero.trl_engine; print(sorted(m for m in sys.modules if m.split('.')[0] == 'verl'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
