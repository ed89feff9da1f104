"""The executor-verified loop (`TASK=code`, issue 13): its plan on both engines, the code Challenger's
prompts, and both roles' code rewards through verl's reward loop and TRL's reward-function interface.

The Challenger's reward runs for real: proposals validated in the sandbox, the Solver served by vLLM's
CPU build (the embedded model) answering m times, the answers checked by execution. The stages
themselves (generate-code, label-code) run in tests/test_code_stages.py.
"""

from __future__ import annotations

import asyncio
import json

import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf
from transformers import AutoTokenizer
from verl.utils.dataset.rl_dataset import RLHFDataset

from recipe.rzero.__main__ import main as rzero
from recipe.rzero.cli import build_parser
from recipe.rzero.rl_data import CODE_CHALLENGER_DATA_SOURCE, code_solver_row
from recipe.rzero.stages.generate_code import GenerateCodeConfig
from recipe.rzero.stages.label_code import LabelCodeConfig
from recipe.rzero.trl_engine import challenger_reward_function, grpo_config, solver_reward_function
from rzero_rewards import uncertainty_reward
from rzero_rewards.code import CodeTask, task_record
from tests.test_recipe_config import assert_chained, compose_recipe, planned_commands, validate_with_verl
from tests.test_recipe_rewards import challenger_config, run_reward_loop
from tests.verl_batches import make_batch

DOUBLE = "```python\ndef f(a):\n    return a * 2\n```\n```input\n21\n```"
PROPOSALS = [  # (task type, the Challenger's output, validates)
    ("deduction", DOUBLE, True),
    ("abduction", DOUBLE.replace("a * 2", "a + 1"), True),
    ("deduction", "```python\ndef f(a):\n    return a.x\n```\n```input\n1\n```", False),  # raises
    ("abduction", "I would write a function.", False),  # malformed: no blocks
]


@pytest.fixture(scope="module")
def tokenizer(embedded_model):
    return AutoTokenizer.from_pretrained(embedded_model)


@pytest.mark.parametrize(
    ("script", "engine", "base"),
    [
        ("run_smollm2_cpu.sh", "trl", "Qwen2.5-Coder-0.5B-Instruct"),  # the embedded coder model
        ("run_smollm2_cpu.sh", "verl", "Qwen2.5-Coder-0.5B-Instruct"),
        ("run_qwen3_4b.sh", "verl", "Qwen/Qwen3-4B-Base"),
    ],
)
def test_the_code_plan_composes_and_chains_on_both_engines(script, engine, base, tmp_path, monkeypatch):
    """`TASK=code bash examples/<script>`: code prompts, generate-code, label-code, the same training
    configs (the rows' data_source picks the code rewards), each input made earlier."""
    monkeypatch.setenv("TASK", "code")
    monkeypatch.setenv("ENGINE", engine)
    commands = planned_commands(script, tmp_path)
    stages = {c[3]: c for c in commands if c[1:3] == ["-m", "recipe.rzero"]}
    assert {"challenger-prompts", "generate-code", "label-code"} <= set(stages) and "generate" not in stages
    assert stages["challenger-prompts"][4:6] == ["--task", "code"]
    generate = vars(build_parser(GenerateCodeConfig).parse_args(stages["generate-code"][4:]))
    label = vars(build_parser(LabelCodeConfig).parse_args(stages["label-code"][4:]))
    assert label["tasks"] == generate["output"]
    module = {"trl": "recipe.rzero.main_trl", "verl": "recipe.rzero.main_rzero"}[engine]
    trainings = [c for c in commands if module in c]
    assert len(trainings) == 2 * (3 if script == "run_qwen3_4b.sh" else 1)
    for command in trainings:
        position = command.index("--config-name")
        config = compose_recipe(command[position + 1], command[position + 2 :])
        grpo_config(config) if engine == "trl" else validate_with_verl(config)
    assert commands[0][commands[0].index("--model") + 1].endswith(base)
    assert_chained(commands)


def test_gold_labels_are_refused_with_code_tasks(tmp_path):
    import os
    import subprocess

    from tests.helpers import ROOT

    env = {**os.environ, "RUN_DIR": str(tmp_path), "BASE_MODEL": "org/model", "TASK": "code", "GOLD_LABEL_ARGS": "x"}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "rzero_loop.sh"), "--dry-run"], env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and "GOLD_LABEL_ARGS labels math questions" in result.stderr


def test_code_challenger_prompts_alternate_the_task_types_and_load_through_verl(embedded_model, tokenizer, tmp_path):
    output = tmp_path / "prompts.parquet"
    rzero(["challenger-prompts", "--task", "code", "--rows", "5", "--format-example", "--output", str(output)])
    rows = pq.read_table(output).to_pylist()
    assert [row["extra_info"]["task_type"] for row in rows] == ["deduction", "abduction"] * 2 + ["deduction"]
    assert {row["data_source"] for row in rows} == {CODE_CHALLENGER_DATA_SOURCE}
    assert all(len(row["prompt"]) == 3 and "```input" in row["prompt"][1]["content"] for row in rows)  # one shot
    config = compose_recipe("rzero_challenger", [f"actor_rollout_ref.model.path={embedded_model}"])
    data = OmegaConf.create({**OmegaConf.to_container(config.data, resolve=True), "cache_dir": str(tmp_path)})
    dataset = RLHFDataset(data_files=str(output), tokenizer=tokenizer, config=data, processor=None)
    assert len(dataset) == 5 and dataset[1]["extra_info"]["task_type"] == "abduction"


def _check_challenger_rewards(rewards: list[float], p_hats: list[float], questions: list) -> None:
    """Valid proposals: uncertainty of a real s̄ ∈ {0, ¼, …, 1} (m = 4) less a penalty; others: 0."""
    for (_, text, valid), reward, p_hat, question in zip(PROPOSALS, rewards, p_hats, questions):
        if valid:
            assert p_hat in (0.0, 0.25, 0.5, 0.75, 1.0) and question.startswith("def f(a):")
            assert reward <= uncertainty_reward(p_hat) + 1e-9
        else:
            assert (reward, p_hat, question) == (0.0, -1.0, None), text


@pytest.mark.vllm
def test_code_challenger_reward_through_verls_reward_loop_and_trl(embedded_model, tokenizer, solver_urls):
    config = challenger_config(embedded_model, solver_urls)
    infos = [{"index": i, "task_type": task_type} for i, (task_type, _, _) in enumerate(PROPOSALS)]
    texts = [text for _, text, _ in PROPOSALS]
    batch = make_batch(
        tokenizer,
        [[{"role": "user", "content": "Propose a task."}]] * len(texts),
        texts,
        {"data_source": [CODE_CHALLENGER_DATA_SOURCE] * len(texts), "extra_info": infos,
         "reward_model": [{"style": "rule", "ground_truth": ""}] * len(texts)},
    )  # fmt: skip
    results, _ = run_reward_loop(config, batch)
    extra = [result["reward_extra_info"] for result in results]
    _check_challenger_rewards([r["reward_score"] for r in results], [e["p_hat"] for e in extra],
                              [e["question"] for e in extra])  # fmt: skip
    assert [e["format_ok"] for e in extra] == [1.0, 1.0, 0.0, 0.0]
    assert extra[0]["question"] == "def f(a):\n    return a * 2\n21"

    logged = {}
    rewards = asyncio.run(
        challenger_reward_function(config)(
            completions=[[{"role": "assistant", "content": text}] for text in texts],
            data_source=[CODE_CHALLENGER_DATA_SOURCE] * len(texts),
            extra_info=infos,
            log_metric=logged.__setitem__,
        )
    )
    assert rewards[2:] == [0.0, 0.0] and logged["rzero/format_failure_rate"] == pytest.approx(2 / 4)
    assert all(0.0 <= reward <= 1.0 for reward in rewards)


def test_code_solver_reward_through_verls_reward_loop_and_trl(embedded_model, tokenizer):
    config = compose_recipe("rzero_solver", [f"actor_rollout_ref.model.path={embedded_model}"])
    task = CodeTask("def f(a):\n    return a % 7", "100", "2")
    record = {"id": "c1", "task_type": "abduction", **task_record(task), "success_rate": 0.5,
              "correct": [True, False], "origin": "test"}  # fmt: skip
    row = code_solver_row(0, record, format_example=True)
    responses = ["```input\n9\n```", "```input\n10\n```", "The input is 9."]  # right, wrong, no block
    batch = make_batch(
        tokenizer,
        [row["prompt"]] * 3,
        responses,
        {"data_source": [row["data_source"]] * 3, "reward_model": [row["reward_model"]] * 3,
         "extra_info": [row["extra_info"]] * 3},
    )  # fmt: skip
    results, scores = run_reward_loop(config, batch)
    assert [r["reward_score"] for r in results] == [1.0, 0.0, 0.0] and scores.sum(-1).tolist() == [1.0, 0.0, 0.0]
    assert json.loads(row["reward_model"]["ground_truth"])["task_type"] == "abduction"
    logged = {}
    rewards = solver_reward_function(config)(
        completions=[[{"role": "assistant", "content": text}] for text in responses],
        data_source=[row["data_source"]] * 3,
        reward_model=[row["reward_model"]] * 3,
        extra_info=[row["extra_info"]] * 3,
        log_metric=logged.__setitem__,
    )
    assert rewards == [1.0, 0.0, 0.0]
