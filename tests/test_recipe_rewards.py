"""The recipe's reward functions through verl's own reward loop, the penalty hook, verl's datasets and
TRL's reward-function interface (the `trl` engine).

The Challenger's reward is computed against a live Solver (vLLM's CPU build, the embedded model).
"""

import asyncio

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from transformers import AutoTokenizer
from verl.experimental.reward_loop import RewardLoopWorker
from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage
from verl.trainer.ppo.reward import resolve_reward_manager_cls
from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

from recipe.rzero.prompts import challenger_messages, solver_messages
from recipe.rzero.rl_data import challenger_prompt_rows, solver_row, write_rl_parquet
from recipe.rzero.rzero_ray_trainer import RayRZeroTrainer, rollout_reward_metrics
from recipe.rzero.trl_engine import challenger_reward_function, solver_reward_function
from rzero_rewards import parse_challenger_output, repetition_penalty, uncertainty_reward
from rzero_rewards.step_metrics import EQUAL_REWARD_GROUPS, REWARD_MEAN
from tests.test_recipe_config import compose_recipe
from tests.verl_batches import make_batch

DUPLICATE = "<question>\nA train travels 60 miles in 1.5 hours. What is its average speed in miles per hour?\n</question>\n\n\\boxed{40}"
CHALLENGER_RESPONSES = [
    DUPLICATE,
    DUPLICATE.replace("A train", "One train"),  # a near-duplicate: the two share a cluster
    "<question>\nHow many positive divisors does 360 have?\n</question>\n\n\\boxed{24}",
    "I cannot think of a question.",  # malformed: no tags, no box
    "<question>What is 7 * 8?</question> and no boxed answer",  # malformed: no answer
    "<question>\nFind the sum of the first 20 odd numbers.\n</question>\n\\boxed{400}",
]

WELL_FORMED = (0, 1, 2, 5)


def expected_penalties() -> np.ndarray:
    """The repetition penalty of each well-formed response: its cluster's share of the whole batch."""
    questions = [CHALLENGER_RESPONSES[i].split("</question>")[0].split("<question>")[1].strip() for i in WELL_FORMED]
    return np.asarray(repetition_penalty(questions)) * len(WELL_FORMED) / len(CHALLENGER_RESPONSES)


@pytest.fixture(scope="module")
def tokenizer(embedded_model):
    return AutoTokenizer.from_pretrained(embedded_model)


def challenger_config(model, solver_urls):
    """The Challenger recipe asking the live Solver m = 4 short answers per question."""
    return compose_recipe(
        "rzero_challenger",
        [
            f"actor_rollout_ref.model.path={model}",
            f"reward.custom_reward_function.reward_kwargs.solver_urls='{solver_urls}'",
            "reward.custom_reward_function.reward_kwargs.samples=4",
            "reward.custom_reward_function.reward_kwargs.solver_max_tokens=48",
        ],
    )


def run_reward_loop(config, batch):
    worker = RewardLoopWorker(config, reward_router_address=None)
    results = worker.loop.run_until_complete(worker.compute_score_batch(batch))
    scores = resolve_reward_manager_cls(config).assemble_rm_scores(batch, [r["reward_score"] for r in results])
    return results, scores


@pytest.mark.vllm
def test_challenger_reward_through_verls_reward_loop(embedded_model, tokenizer, solver_urls):
    config = challenger_config(embedded_model, solver_urls)
    size = len(CHALLENGER_RESPONSES)
    batch = make_batch(
        tokenizer,
        [challenger_messages()] * size,
        CHALLENGER_RESPONSES,
        {
            "data_source": ["rzero_challenger"] * size,
            "reward_model": [{"style": "rule", "ground_truth": ""}] * size,
            "extra_info": [{"index": i} for i in range(size)],
        },
    )
    results, scores = run_reward_loop(config, batch)
    infos = [result["reward_extra_info"] for result in results]
    assert [info["format_ok"] for info in infos] == [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    parsed = [parse_challenger_output(response) for response in CHALLENGER_RESPONSES]
    assert [info["question"] for info in infos] == [result[0] if result else None for result in parsed]
    for result, info in zip(results, infos):
        if info["format_ok"]:
            assert info["p_hat"] in {0.0, 0.25, 0.5, 0.75, 1.0}  # m = 4 real Solver samples
            assert result["reward_score"] == pytest.approx(uncertainty_reward(info["p_hat"]))
            assert info["solver_latency_s"] > 0
        else:
            assert result["reward_score"] == 0.0
    # The penalty hook on the same batch, as fit() calls it after balancing.
    keys = list(infos[0])
    batch.batch["rm_scores"] = scores
    for key in keys:
        batch.non_tensor_batch[key] = np.array([info[key] for info in infos])
    batch.meta_info["reward_extra_keys"] = keys
    trainer = RayRZeroTrainer.__new__(RayRZeroTrainer)  # the hook needs only the config and tokenizer
    trainer.config, trainer.tokenizer = config, tokenizer
    before = scores.clone()
    metrics = trainer.apply_batch_rewards(batch)
    expected_penalty = expected_penalties()
    assert expected_penalty[0] == expected_penalty[1] == pytest.approx(2 / size)  # the near-duplicates
    penalties = batch.non_tensor_batch["repetition_penalty"]
    np.testing.assert_allclose(penalties[list(WELL_FORMED)], expected_penalty)
    assert penalties[3] == penalties[4] == 0.0
    for row, index in enumerate(WELL_FORMED):
        expected = max(0.0, infos[index]["uncertainty"] - expected_penalty[row])
        assert scores[index].sum().item() == pytest.approx(expected)
        assert torch.count_nonzero(scores[index]) <= 1  # still one score, on the last response token
    assert torch.equal(scores[3], before[3]) and torch.equal(scores[4], before[4])  # format scores untouched
    assert metrics["rzero/format_failure_rate"] == pytest.approx(2 / 6)
    assert metrics["rzero/question_clusters"] == 3.0
    assert sum(v for k, v in metrics.items() if k.startswith("rzero/p_hat_hist/")) == pytest.approx(1.0)
    assert "repetition_penalty" in batch.meta_info["reward_extra_keys"]
    # verl's GRPO turns the penalised scores into token-level advantages.
    advantages, _ = compute_grpo_outcome_advantage(
        token_level_rewards=scores, response_mask=batch.batch["response_mask"], index=np.array(["p"] * size)
    )
    assert advantages.shape == scores.shape and torch.isfinite(advantages).all()


@pytest.mark.vllm
def test_challenger_reward_through_trls_reward_function_interface(embedded_model, solver_urls):
    reward_function = challenger_reward_function(challenger_config(embedded_model, solver_urls))
    logged = {}
    completions = [[{"role": "assistant", "content": text}] for text in CHALLENGER_RESPONSES]  # TRL's chat form
    rewards = asyncio.run(
        reward_function(
            completions=completions,
            data_source=["rzero_challenger"] * len(completions),
            log_metric=logged.__setitem__,
            prompts=[challenger_messages()] * len(completions),
        )
    )
    assert rewards[3] == rewards[4] == 0.0  # malformed
    for index, penalty in zip(WELL_FORMED, expected_penalties()):
        # p̂ from m = 4 real Solver samples is 0 (no answer) or 1/4 .. 1; reward = uncertainty − penalty, clipped
        possible = {max(0.0, uncertainty_reward(p_hat) - penalty) for p_hat in (0.0, 0.25, 0.5, 0.75, 1.0)}
        assert any(rewards[index] == pytest.approx(value) for value in possible), (index, rewards[index])
    assert logged["rzero/format_failure_rate"] == pytest.approx(2 / 6)
    assert logged["rzero/question_clusters"] == 3.0
    assert logged["rzero/reward/mean"] == pytest.approx(np.mean(rewards))
    assert sum(v for k, v in logged.items() if k.startswith("rzero/p_hat_hist/")) == pytest.approx(1.0)


def half_batch(tokenizer, responses: list[str], **fields: list):
    """A Solver batch: `responses` to "What is 1/2?" with the pseudo-label 0.5, plus other `fields`."""
    size = len(responses)
    return make_batch(
        tokenizer,
        [solver_messages("What is 1/2?")] * size,
        responses,
        {
            "data_source": ["rzero_solver"] * size,
            "reward_model": [{"style": "rule", "ground_truth": "0.5"}] * size,
            "extra_info": [{"index": i} for i in range(size)],
            **fields,
        },
    )


def test_solver_reward_through_verls_reward_loop(embedded_model, tokenizer):
    config = compose_recipe("rzero_solver", [f"actor_rollout_ref.model.path={embedded_model}"])
    responses = ["So the answer is \\boxed{\\frac{1}{2}}.", "I think \\boxed{3}.", "No boxed answer.", "\\boxed{0.5}"]
    batch = half_batch(tokenizer, responses)
    results, scores = run_reward_loop(config, batch)
    assert [r["reward_score"] for r in results] == [1.0, 0.0, 0.0, 1.0]
    assert scores.sum(-1).tolist() == [1.0, 0.0, 0.0, 1.0]
    trainer = RayRZeroTrainer.__new__(RayRZeroTrainer)
    trainer.config, trainer.tokenizer = config, tokenizer
    assert trainer.apply_batch_rewards(batch) == {}  # the Solver has no batch-level term


def test_both_engines_log_the_same_step_metrics_for_the_same_solver_batch(embedded_model, tokenizer):
    """verl's hook (groups: `uid`) and the TRL reward function (groups: n consecutive rollouts) on one batch."""
    config = compose_recipe(
        "rzero_solver", [f"actor_rollout_ref.model.path={embedded_model}", "actor_rollout_ref.rollout.n=2"]
    )
    right, wrong = "So \\boxed{0.5}.", "I think \\boxed{3}."
    responses = [right, wrong, right, right, wrong, wrong]  # groups of 2: (1, 0), (1, 1), (0, 0)
    batch = half_batch(tokenizer, responses, uid=["b", "b", "a", "a", "c", "c"])
    _, batch.batch["rm_scores"] = run_reward_loop(config, batch)
    verl = rollout_reward_metrics(batch)
    assert verl == {REWARD_MEAN: pytest.approx(0.5), EQUAL_REWARD_GROUPS: pytest.approx(2 / 3)}
    logged = {}
    rewards = solver_reward_function(config)(
        completions=[[{"role": "assistant", "content": text}] for text in responses],
        data_source=["rzero_solver"] * 6,
        reward_model=[{"style": "rule", "ground_truth": "0.5"}] * 6,
        log_metric=logged.__setitem__,
    )
    assert rewards == [1.0, 0.0, 1.0, 1.0, 0.0, 0.0] and logged == verl


def test_both_datasets_load_through_verl(embedded_model, tokenizer, tmp_path):
    challenger_file, solver_file = tmp_path / "challenger.parquet", tmp_path / "solver.parquet"
    write_rl_parquet(challenger_file, challenger_prompt_rows(6))
    record = {"id": "q1", "question": "What is 2+2?", "label": "4", "p_hat": 0.5, "counts": {"4": 5, "5": 5},
              "origin": "challenger", "gold": None}  # fmt: skip
    write_rl_parquet(solver_file, [solver_row(0, record)])
    for name, path, rows in (("rzero_challenger", challenger_file, 6), ("rzero_solver", solver_file, 1)):
        config = compose_recipe(name, [f"actor_rollout_ref.model.path={embedded_model}", f"data.train_files={path}"])
        data_config = OmegaConf.create({**OmegaConf.to_container(config.data, resolve=True), "cache_dir": str(tmp_path)})
        dataset = RLHFDataset(data_files=str(path), tokenizer=tokenizer, config=data_config, processor=None)
        assert len(dataset) == rows
        batch = collate_fn([dataset[i] for i in range(rows)])
        assert list(batch["data_source"]) == [name] * rows
    assert batch["raw_prompt"][0] == solver_messages("What is 2+2?")
    assert batch["reward_model"][0]["ground_truth"] == "4" and batch["extra_info"][0]["p_hat"] == 0.5
