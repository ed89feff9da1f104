"""verl custom reward functions of both roles (`reward.custom_reward_function.path=pkg://recipe.rzero.reward_fn`).

verl's reward loop calls them once per rollout, with keyword arguments only. Per-rollout work is
done here; the Challenger's repetition penalty needs the whole rollout batch and is applied by
`RayRZeroTrainer` afterwards, from the `uncertainty` and `format_ok` this function reports.

- `challenger_compute_score`: parse `<question>` and `\\boxed{}`; ask the served Solver m answers
  (through verl's reward-model router when `reward.reward_model.enable=True`, else the URLs in
  `solver_urls`); return the uncertainty reward, or `format_penalty` for a malformed output.
- `solver_compute_score`: 1.0 if the boxed answer equals the pseudo-label (`ground_truth`).
- `code_solver_compute_score` (`TASK=code`): 1.0 if the executor verifies the Solver's answer to
  the code task in `ground_truth` (rows of `rl_data.code_solver_row`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from rzero_rewards import parse_challenger_output, solver_reward, uncertainty_reward
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
    uncertainty_scale: str = "paper",
    format_penalty: float = 0.0,
    **_: Any,
) -> dict[str, float]:
    """The Challenger's per-rollout reward, before the batch repetition penalty.

    Returns `score` (uncertainty, or `format_penalty`) and the diagnostics the trainer logs and
    needs: `uncertainty`, `p_hat`, `format_ok`, `solver_latency_s` (every rollout, the same keys).
    """
    parsed = parse_challenger_output(solution_str)
    if parsed is None:
        return {"score": format_penalty, "uncertainty": 0.0, "p_hat": -1.0, "format_ok": 0.0, "solver_latency_s": 0.0}
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
    uncertainty = uncertainty_reward(verdict.p_hat, uncertainty_scale)
    return {
        "score": uncertainty,
        "uncertainty": uncertainty,
        "p_hat": verdict.p_hat,
        "format_ok": 1.0,
        "solver_latency_s": verdict.latency_s,
    }


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
