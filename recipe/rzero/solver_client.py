"""Ask the served Solver m answers per question and turn them into a pseudo-label and p̂.

This is what the Challenger's reward calls during Challenger training (verl's async reward loop
or TRL; the `label` stage runs its own engines, `replicas.py`). Requests go to the
OpenAI-compatible `/v1/chat/completions` endpoint with `n = m`, spread round-robin over replicas,
with bounded concurrency, a per-request timeout and retries with exponential backoff.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from rzero_rewards import extract_answer, majority_vote

from .inference_defaults import MAX_TOKENS, SOLVER_SAMPLES
from .prompts import solver_messages


class SolverUnavailableError(RuntimeError):
    """The solver service could not be reached or kept failing; names the URL and the server log."""


@dataclass(frozen=True)
class SolverVerdict:
    """The Solver's m attempts at one question and their majority vote."""

    question: str
    responses: list[str]
    answers: list[str | None]
    label: str | None
    p_hat: float
    counts: dict[str, int]
    latency_s: float


@dataclass
class SolverClientConfig:
    """Sampling and transport settings of `SolverClient` (defaults: the paper's m = 10, T = 1.0).

    Attributes:
        samples: answers per question (m).
        temperature / top_p / top_k: sampling; top_k −1 disables it.
        max_tokens: longest answer.
        concurrency: questions in flight at once (each asks for `samples` completions).
        request_timeout_s: per HTTP request.
        retries: further attempts after a failed request, with exponential backoff from `backoff_s`.
        vote_timeout_s: math-verify budget per answer comparison in the vote.
        model: the served model name.
        format_example: ask with the one-shot Solver prompt (`prompts.solver_messages`).
        last_number_fallback: vote on the last number of answers without `\\boxed{}` (`extract_answer`).
        log_paths: server logs, named in errors.
    """

    samples: int = SOLVER_SAMPLES
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    max_tokens: int = MAX_TOKENS
    concurrency: int = 64
    request_timeout_s: float = 900.0
    retries: int = 3
    backoff_s: float = 1.0
    vote_timeout_s: float = 5.0
    model: str = "solver"
    format_example: bool = False
    last_number_fallback: bool = False
    log_paths: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError(f"samples (m) must be at least 1, got {self.samples}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")


class SolverClient:
    """Score questions against one or more solver server URLs."""

    def __init__(self, urls: list[str] | str, config: SolverClientConfig | None = None) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        if not self.urls:
            raise ValueError("SolverClient needs at least one server URL")
        self.config = config or SolverClientConfig()

    def _payload(self, messages: list[dict[str, str]]) -> dict:
        config = self.config
        return {
            "model": config.model,
            "messages": messages,
            "n": config.samples,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "top_k": config.top_k,
            "max_tokens": config.max_tokens,
        }

    async def _complete(self, http: httpx.AsyncClient, url: str, messages: list[dict[str, str]]) -> list[str]:
        config = self.config
        last_error: Exception | None = None
        for attempt in range(config.retries + 1):
            if attempt:
                await asyncio.sleep(config.backoff_s * 2 ** (attempt - 1))
            try:
                response = await http.post(f"{url}/v1/chat/completions", json=self._payload(messages))
                if response.status_code == 400:  # the request itself is wrong: retrying cannot help
                    raise SolverUnavailableError(f"the solver at {url} rejected a request: {response.text[:500]}")
                response.raise_for_status()
                choices = sorted(response.json()["choices"], key=lambda choice: choice["index"])
                return [choice["message"]["content"] or "" for choice in choices]
            except (httpx.HTTPError, KeyError, ValueError) as error:
                last_error = error
        logs = ", ".join(map(str, self.config.log_paths)) or "not known to this client"
        raise SolverUnavailableError(
            f"the solver service at {url} failed {config.retries + 1} times "
            f"({type(last_error).__name__}: {last_error}); server log: {logs}"
        )

    async def _answers(
        self, http: httpx.AsyncClient, gate: asyncio.Semaphore, index: int, messages: list[dict[str, str]]
    ) -> tuple[list[str], float]:
        async with gate:
            started = time.perf_counter()
            responses = await self._complete(http, self.urls[index % len(self.urls)], messages)
            return responses, time.perf_counter() - started

    async def answer_async(self, conversations: list[list[dict[str, str]]]) -> list[tuple[list[str], float]]:
        """The Solver's m sampled responses to each chat (`[{"role", "content"}, ...]`), in order, with the
        seconds each request took. Any prompt: the math questions of `score_async`, the code tasks of
        the executor-verified Challenger reward. Raises `SolverUnavailableError` if the service fails."""
        gate = asyncio.Semaphore(self.config.concurrency)
        timeout = httpx.Timeout(self.config.request_timeout_s, connect=30.0)
        limits = httpx.Limits(max_connections=self.config.concurrency)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
            return list(
                await asyncio.gather(*(self._answers(http, gate, i, chat) for i, chat in enumerate(conversations)))
            )

    async def score_async(self, questions: list[str]) -> list[SolverVerdict]:
        """One verdict per question, in order. Raises `SolverUnavailableError` if the service fails."""
        conversations = [solver_messages(question, self.config.format_example) for question in questions]

        async def verdict(question: str, responses: list[str], latency: float) -> SolverVerdict:
            answers = [extract_answer(response, self.config.last_number_fallback) for response in responses]
            vote = await asyncio.to_thread(majority_vote, answers, self.config.vote_timeout_s)
            return SolverVerdict(question, responses, answers, vote.label, vote.p_hat, vote.counts, latency)

        answered = await self.answer_async(conversations)
        return list(await asyncio.gather(*(verdict(q, *result) for q, result in zip(questions, answered))))

    def score(self, questions: list[str]) -> list[SolverVerdict]:
        """Blocking `score_async`, for code that runs no event loop of its own."""
        return asyncio.run(self.score_async(questions))
