"""verl custom reward functions of both roles (`reward.custom_reward_function.path=pkg://recipe.rzero.reward_fn`).

verl's reward loop calls them once per rollout, with keyword arguments only (the config's
`reward.custom_reward_function.reward_kwargs`). Per-rollout work is done here; the Challenger's
repetition penalty needs the whole rollout batch and is applied afterwards by the training engine
(`rzero_rewards.score_challenger_rollouts`), from the `question`, `uncertainty` and `p_hat` this
function reports.

- `challenger_compute_score`: parse `<question>` and `\\boxed{}`; ask the served Solver m answers
  (through verl's reward-model router when `reward.reward_model.enable=True`, else the URLs in
  `solver_urls`); return the uncertainty reward, or `format_penalty` for a malformed output.
- `challenger_reward_settings`: the Challenger's reward settings of a composed config, as both
  training engines read them (their one home is the same `reward_kwargs`).
- `solver_compute_score`: 1.0 if the boxed answer equals the pseudo-label (`ground_truth`).
- `code_solver_compute_score` (`TASK=code`): 1.0 if the executor verifies the Solver's answer to
  the code task in `ground_truth` (rows of `rl_data.code_solver_row`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from omegaconf import DictConfig

from rzero_rewards import ChallengerRewardSettings, parse_challenger_output, solver_reward, uncertainty_reward
from rzero_rewards.code import check_answers, parse_solver_answer, solve_reward, task_from_record

from .inference_defaults import MAX_TOKENS, SOLVER_SAMPLES
from .solver_client import SolverClient, SolverClientConfig


@lru_cache(maxsize=8)
def _client(urls: tuple[str, ...], model: str, **settings: Any) -> SolverClient:
    return SolverClient(list(urls), SolverClientConfig(model=model, **settings))


def _solver_urls(reward_router_address: str | None, solver_urls: str | list[str] | None) -> tuple[str, ...]:
    if reward_router_address:
        return (f"http://{reward_router_address}",)
    if isinstance(solver_urls, str):
        solver_urls = [url for url in solver_urls.split(",") if url]
    if not solver_urls:
        raise ValueError(
            "the challenger reward needs the Solver: enable reward.reward_model (verl serves it) or set "
            "+reward.custom_reward_function.reward_kwargs.solver_urls=http://host:port[,...]"
        )
    return tuple(url.rstrip("/") for url in solver_urls)


async def challenger_compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any = None,
    extra_info: dict | None = None,
    *,
    reward_router_address: str | None = None,
    solver_urls: str | list[str] | None = None,
    solver_model: str = "solver",
    samples: int = SOLVER_SAMPLES,
    solver_max_tokens: int = MAX_TOKENS,
    solver_temperature: float = 1.0,
    solver_format_example: bool = False,
    solver_last_number_fallback: bool = False,
    **reward_settings: Any,
) -> dict[str, float | str | None]:
    """The Challenger's per-rollout reward, before the batch repetition penalty.

    `reward_settings`: the `ChallengerRewardSettings` fields (`uncertainty_scale`, `format_penalty`,
    ...; the batch terms' are read by the engines from the same `reward_kwargs`); other keys, such
    as verl's `reward_model_tokenizer`, are ignored.

    Returns `score` (uncertainty, or `format_penalty`) and what the engines log and need, for every
    rollout the same keys: `question` (the parsed question; `None` for a malformed output),
    `uncertainty`, `p_hat`, `format_ok`, `solver_latency_s`. verl keeps each key in the batch's
    `non_tensor_batch` (a string or `None` is stored as is, and skipped by its validation metrics).
    """
    settings = ChallengerRewardSettings.from_kwargs(reward_settings)
    parsed = parse_challenger_output(solution_str)
    if parsed is None:
        return {
            "score": settings.format_penalty,
            "question": None,
            "uncertainty": 0.0,
            "p_hat": -1.0,
            "format_ok": 0.0,
            "solver_latency_s": 0.0,
        }
    question, _ = parsed
    urls = _solver_urls(reward_router_address, solver_urls)
    client = _client(
        urls,
        solver_model,
        samples=samples,
        max_tokens=solver_max_tokens,
        temperature=solver_temperature,
        format_example=solver_format_example,
        last_number_fallback=solver_last_number_fallback,
    )
    (verdict,) = await client.score_async([question])
    uncertainty = uncertainty_reward(verdict.p_hat, settings.uncertainty_scale)
    return {
        "score": uncertainty,
        "question": question,
        "uncertainty": uncertainty,
        "p_hat": verdict.p_hat,
        "format_ok": 1.0,
        "solver_latency_s": verdict.latency_s,
    }


def challenger_reward_settings(config: DictConfig) -> ChallengerRewardSettings:
    """The Challenger's reward settings of a composed config (`reward.custom_reward_function.reward_kwargs`:
    the mapping verl passes to `challenger_compute_score`); both training engines read them here."""
    return ChallengerRewardSettings.from_kwargs(config.reward.custom_reward_function.reward_kwargs)


def solver_compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict | None = None,
    *,
    last_number_fallback: bool = False,
    **_: Any,
) -> dict[str, float]:
    """The Solver's reward: agreement of its last `\\boxed{}` answer with the pseudo-label."""
    score = solver_reward(solution_str, ground_truth, last_number_fallback)
    return {"score": score, "acc": score}


def code_solver_compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict | None = None,
    **_: Any,
) -> dict[str, float]:
    """The Solver's verified reward on a code task (AZR Eq. 5): 1 when the answer in its last block
    (```output for deduction, ```input for abduction) is right by execution in the sandbox, else 0.
    `ground_truth` is the task as JSON (`rl_data.code_solver_row`); `answered` is 0 for a response
    without the block."""
    record = json.loads(ground_truth)
    answer = parse_solver_answer(solution_str, record["task_type"])
    (correct,) = check_answers([(record["task_type"], task_from_record(record), answer)])
    score = solve_reward(correct)
    return {"score": score, "acc": score, "answered": float(answer is not None)}
