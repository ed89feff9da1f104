"""verl custom reward functions of both roles (`reward.custom_reward_function.path=pkg://recipe.rzero.reward_fn`).

verl's reward loop calls them once per rollout, with keyword arguments only (the config's
`reward.custom_reward_function.reward_kwargs`). Per-rollout work is done here; the Challenger's
repetition penalty needs the whole rollout batch and is applied afterwards by the training engine
(`rzero_rewards.score_challenger_rollouts`), from the `question`, `uncertainty` and `p_hat` this
function reports.

- `challenger_compute_score`: parse `<question>` and `\\boxed{}`; ask the served Solver m answers
  (through verl's reward-model router when `reward.reward_model.enable=True`, else the URLs in
  `solver_urls`); return the uncertainty reward, or `format_penalty` for a malformed output.
  With `TASK=code` (rows of `rzero_code_challenger`, issue 13) the output is a code task (a
  program and an input): validated in the sandbox, answered m times by the Solver, the answers
  checked by execution, and the verified success rate s̄ rewarded like p̂ (or with AZR's
  learnability, `proposer_reward=learnability`).
- `challenger_reward_settings`: the Challenger's reward settings of a composed config, as both
  training engines read them (their one home is the same `reward_kwargs`).
- `solver_compute_score`: 1.0 if the boxed answer equals the pseudo-label (`ground_truth`); for
  rows of `rzero_code_solver` (`TASK=code`), `code_solver_compute_score`: 1.0 if the executor
  verifies the answer to the code task in `ground_truth` (rows of `rl_data.code_solver_row`).

The task is the rows' (`data_source`), so one config per role serves both tasks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from omegaconf import DictConfig

from rzero_rewards import ChallengerRewardSettings, parse_challenger_output, solver_reward, uncertainty_reward
from rzero_rewards.code import (
    check_answers,
    learnability_reward,
    parse_proposal,
    parse_solver_answer,
    solve_reward,
    task_from_record,
    validate_tasks,
)

from .inference_defaults import MAX_TOKENS, SOLVER_SAMPLES
from .prompts import code_solver_messages
from .rl_data import CODE_CHALLENGER_DATA_SOURCE, CODE_SOLVER_DATA_SOURCE, PROPOSED_TASK_TYPES
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
    proposer_reward: str = "uncertainty",
    **reward_settings: Any,
) -> dict[str, float | str | None]:
    """The Challenger's per-rollout reward, before the batch repetition penalty.

    A row's `data_source` says what the Challenger was asked for: a math question
    (`rzero_challenger`: parse `<question>`, vote on the Solver's m answers, reward p̂'s
    uncertainty) or, with `TASK=code`, a code task (`rzero_code_challenger`, issue 13: see
    `_code_proposal_score`; `proposer_reward` applies there only, `solver_last_number_fallback`
    to math only).

    `reward_settings`: the `ChallengerRewardSettings` fields (`uncertainty_scale`, `format_penalty`,
    ...; the batch terms' are read by the engines from the same `reward_kwargs`); other keys, such
    as verl's `reward_model_tokenizer`, are ignored.

    Returns `score` (uncertainty, or `format_penalty`) and what the engines log and need, for every
    rollout the same keys: `question` (the parsed question, or the task's program and input; `None`
    for a malformed output), `uncertainty`, `p_hat`, `format_ok`, `solver_latency_s`. verl keeps each
    key in the batch's `non_tensor_batch` (a string or `None` is stored as is, and skipped by its
    validation metrics).
    """
    settings = ChallengerRewardSettings.from_kwargs(reward_settings)

    def client() -> SolverClient:
        return _client(
            _solver_urls(reward_router_address, solver_urls),
            solver_model,
            samples=samples,
            max_tokens=solver_max_tokens,
            temperature=solver_temperature,
            format_example=solver_format_example,
            last_number_fallback=solver_last_number_fallback,
        )

    if data_source == CODE_CHALLENGER_DATA_SOURCE:
        return await _code_proposal_score(solution_str, extra_info, client, settings, proposer_reward)
    parsed = parse_challenger_output(solution_str)
    if parsed is None:
        return _malformed(settings)
    question, _ = parsed
    (verdict,) = await client().score_async([question])
    uncertainty = uncertainty_reward(verdict.p_hat, settings.uncertainty_scale)
    return _scored(uncertainty, question, verdict.p_hat, verdict.latency_s)


def _scored(reward: float, question: str, p_hat: float, latency_s: float) -> dict[str, float | str | None]:
    return {
        "score": reward,
        "question": question,
        "uncertainty": reward,
        "p_hat": p_hat,
        "format_ok": 1.0,
        "solver_latency_s": latency_s,
    }


def _malformed(settings: ChallengerRewardSettings) -> dict[str, float | str | None]:
    """A Challenger rollout with nothing to score: the format penalty, and the same keys as a scored one."""
    return {
        "score": settings.format_penalty,
        "question": None,
        "uncertainty": 0.0,
        "p_hat": -1.0,
        "format_ok": 0.0,
        "solver_latency_s": 0.0,
    }


async def _code_proposal_score(
    solution_str: str,
    extra_info: dict | None,
    client: Callable[[], SolverClient],
    settings: ChallengerRewardSettings,
    proposer_reward: str,
) -> dict[str, float | str | None]:
    """A proposed code task's reward (issue 13). `extra_info["task_type"]` (`deduction` or
    `abduction`, from the prompt row) is what was asked for. The proposal (a ```python block defining
    `f` and an ```input block) must parse and pass `validate_tasks` (static policy, limits, a literal
    output, the same on two runs), else it scores `format_penalty`. The Solver's m answers to the
    task (`prompts.code_solver_messages`, with the one-shot example when the client has
    `format_example`) are checked by execution (`check_answers`); their success rate s̄ (reported as
    `p_hat`) is rewarded as R-Zero rewards p̂ (`proposer_reward="uncertainty"`, scaled by
    `uncertainty_scale`) or with AZR's learnability (`"learnability"`: 1 − s̄ for 0 < s̄ < 1, else 0).
    `question` is the task's program and input, which the repetition penalty compares.
    Raises ValueError for an unknown task type or `proposer_reward`.
    """
    task_type = (extra_info or {}).get("task_type")
    if task_type not in PROPOSED_TASK_TYPES:
        raise ValueError(f"a code Challenger row needs extra_info.task_type in {PROPOSED_TASK_TYPES}: {task_type!r}")
    if proposer_reward not in ("uncertainty", "learnability"):
        raise ValueError(f"proposer_reward must be 'uncertainty' or 'learnability', got {proposer_reward!r}")
    proposal = parse_proposal(solution_str)
    if proposal is None:
        return _malformed(settings)
    (validation,) = await asyncio.to_thread(validate_tasks, [proposal])
    if validation.task is None:
        return _malformed(settings)
    task, solver = validation.task, client()
    chat = code_solver_messages(task, task_type, solver.config.format_example)
    ((responses, latency),) = await solver.answer_async([chat])
    answers = [(task_type, task, parse_solver_answer(response, task_type)) for response in responses]
    success_rate = sum(await asyncio.to_thread(check_answers, answers)) / len(answers)
    if proposer_reward == "uncertainty":
        reward = uncertainty_reward(success_rate, settings.uncertainty_scale)
    else:
        reward = learnability_reward(success_rate)
    return _scored(reward, f"{task.program}\n{task.input}", success_rate, latency)


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
    """The Solver's reward: agreement of its last `\\boxed{}` answer with the pseudo-label; on a code
    task's row (`rzero_code_solver`), `code_solver_compute_score`."""
    if data_source == CODE_SOLVER_DATA_SOURCE:
        return code_solver_compute_score(data_source, solution_str, ground_truth, extra_info)
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
