"""One AZR self-play step without a model: propose, validate, estimate learnability, solve, reward.

Absolute Zero (arXiv 2505.03335, Algorithm 1) trains one model in two roles on three task types.
One step, for each task type in `SelfPlaySettings.task_types`:

1. **propose** (§3.3.2): B chats; deduction and abduction ones show K references drawn uniformly
   from the type's buffer, induction ones a program drawn from the deduction and abduction buffers
   and ask for N inputs and a message (§3.2).
2. **validate** (§3.3.3): each response is parsed and run in the sandbox (static check, limits, a
   literal output, the same on two runs; induction: every input, the first half of the pairs
   shown, the rest hidden). Every valid task joins its buffer, whatever its learnability (§3.3.2),
   before the solve batch is drawn.
3. **learnability** (§3.1, Eq. 4): n solver samples per valid task, verified by execution; their
   success rate s̄ gives the proposer 1 − s̄ when 0 < s̄ < 1, else 0. The samples are not trained on.
4. **solve** (§3.3.3): B tasks per type, this step's valid tasks first ("all valid tasks from
   timestep t"; AZR's public code solves the previous step's first), the rest drawn from the
   buffer (`TaskBuffers.fill`); each answer verified by execution (Eq. 5).
5. **rewards**: with `format_rule` (Eq. 6) a proposal that is not a valid task scores -1, a valid
   one its learnability (0 when s̄ is 0 or 1; AZR's public code gives it -0.5); a solver answer
   without its block -1, a wrong one in its block -0.5 (`rzero_rewards.code.format_aware_reward`).

The model is the caller's `generate(chats, n, phase)`: one list of n response texts per chat, in
order. `run_step` calls it three times, with the propose chats (n = 1, phase "propose"), the
learnability chats (n, "learnability"; skipped when no proposal is valid) and the solve chats
(n = 1, "solve"); the rows it returns (`StepRow`) are the
responses of the first and the third call in their chats' order, each with its reward and its
TRR++ group (`trr.group_label`). The verl hook (an AgentLoopManager) passes a `generate` backed
by verl's rollout and keeps the token-level outputs of those two calls for training.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from recipe.rzero.prompts import code_proposer_messages, code_solver_messages
from recipe.rzero.stages.generate_code import failure_kind
from rzero_rewards.code import (
    FORMAT_PENALTY_MALFORMED,
    CodeTask,
    Limits,
    Validation,
    check_answers,
    check_inductions,
    format_aware_reward,
    induction_proposer_prompt,
    learnability_reward,
    make_induction_tasks,
    parse_induction_proposal,
    parse_proposal,
    parse_solver_answer,
    solve_reward,
    validate_tasks,
)

from .buffers import TASK_TYPES, Task, TaskBuffers
from .trr import ROLES, group_label

Chat = list[dict[str, str]]
Generate = Callable[[list[Chat], int, str], list[list[str]]]


@dataclass(frozen=True)
class SelfPlaySettings:
    """The settings of a step; the defaults are the paper's (Table 3; N from the public code).

    `format_example` puts a one-shot exchange before deduction and abduction chats (both roles;
    `rzero_rewards.code` has no induction example yet, so induction chats are zero-shot).
    Raises ValueError naming an unknown or repeated task type or a count out of range.
    """

    batch_size: int = 64  # B, per task type and role ("64 * 6")
    references: int = 6  # K, per deduction/abduction proposal; 0 is the paper's "w/o gen reference"
    learnability_samples: int = 8  # n, solver samples per valid proposal
    induction_inputs: int = 10  # N, inputs per induction proposal (half shown, half hidden)
    task_types: tuple[str, ...] = TASK_TYPES
    format_rule: bool = True  # Eq. 6
    format_example: bool = False
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        unknown = [task_type for task_type in self.task_types if task_type not in TASK_TYPES]
        if unknown:
            raise ValueError(f"unknown task type {unknown[0]!r}; known: {', '.join(TASK_TYPES)}")
        if not self.task_types or len(set(self.task_types)) != len(self.task_types):
            raise ValueError(f"task_types must name each task type at most once, got {self.task_types}")
        for name, value, least in (
            ("batch_size", self.batch_size, 1),
            ("references", self.references, 0),
            ("learnability_samples", self.learnability_samples, 1),
            ("induction_inputs", self.induction_inputs, 2),
        ):
            if value < least:
                raise ValueError(f"{name} must be at least {least}, got {value}")


@dataclass(frozen=True)
class ProposeRequest:
    """One proposer chat: `references` (deduction, abduction) or the `program`'s task (induction)."""

    task_type: str
    chat: Chat
    references: tuple[CodeTask, ...] = ()
    program: CodeTask | None = None


@dataclass(frozen=True)
class Proposal:
    """A proposer's response and its verdict: the validated `task`, or None and `reason`."""

    request: ProposeRequest
    response: str
    task: Task | None
    reason: str = ""

    @property
    def failure(self) -> str:
        """'' when valid, else the kind of failure: `malformed` (the blocks are missing), a sandbox
        status (`error`, `timeout`, `rejected`, ...), `not deterministic`, or, for induction,
        `fewer than two distinct inputs`."""
        return failure_kind(self.reason) if self.task is None else ""


@dataclass(frozen=True)
class SolveRequest:
    """One solver chat; `new` when the task was proposed this step, not drawn from the buffer."""

    task_type: str
    task: Task
    chat: Chat
    new: bool


@dataclass(frozen=True)
class StepRow:
    """A trained row: a propose or solve chat, the response and its reward."""

    task_type: str
    role: str
    chat: Chat
    response: str
    reward: float

    @property
    def group(self) -> str:
        """The row's TRR++ group, `"<task type>/<role>"`, which the trainer writes into `uid`."""
        return group_label(self.task_type, self.role)


@dataclass(frozen=True)
class StepResult:
    """What a step did. `success_rates[i]` is s̄ of `proposals[i]` (None when invalid); `rows` are
    the proposals' rows in order, then the `solves`' rows in order; `buffer_sizes` after the step."""

    proposals: list[Proposal]
    success_rates: list[float | None]
    solves: list[SolveRequest]
    rows: list[StepRow]
    buffer_sizes: dict[str, int]


def _check_count(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise ValueError(f"{got} {what} for {expected} chats: one per chat is needed")


def _generated(generate: Generate, chats: list[Chat], n: int, phase: str) -> list[list[str]]:
    """`generate(chats, n, phase)`, checked: one list of n strings per chat. Not called without chats."""
    if not chats:
        return []
    responses = generate(chats, n, phase)
    _check_count(f"response lists from generate for the {phase} phase", len(responses), len(chats))
    for index, texts in enumerate(responses):
        if len(texts) != n or not all(isinstance(text, str) for text in texts):
            raise ValueError(
                f"generate returned {len(texts)} responses for {phase} chat {index}; n = {n} strings are needed"
            )
    return responses


def _solver_chat(task: Task, task_type: str, settings: SelfPlaySettings) -> Chat:
    return code_solver_messages(task, task_type, settings.format_example and task_type != "induction")


def propose_requests(buffers: TaskBuffers, settings: SelfPlaySettings) -> list[ProposeRequest]:
    """B proposer chats per task type, type after type. Raises ValueError when K exceeds what a
    buffer can ever hold (`buffers.max_size`)."""
    if settings.references > buffers.max_size:
        raise ValueError(
            f"K = {settings.references} references cannot be drawn from buffers of at most {buffers.max_size} tasks"
        )
    requests = []
    for task_type in settings.task_types:
        if task_type == "induction":
            for program in buffers.programs(settings.batch_size):
                chat = [
                    {"role": "user", "content": induction_proposer_prompt(program.program, settings.induction_inputs)}
                ]
                requests.append(ProposeRequest(task_type, chat, program=program))
            continue
        for _ in range(settings.batch_size):
            references = buffers.references(task_type, settings.references)
            chat = code_proposer_messages(task_type, references, settings.format_example)
            requests.append(ProposeRequest(task_type, chat, references=tuple(references)))
    return requests


def make_proposals(requests: list[ProposeRequest], responses: list[str], settings: SelfPlaySettings) -> list[Proposal]:
    """Parse and validate one response per request, all in two sandbox batches (deduction and
    abduction programs; induction inputs). Raises ValueError for a response count that differs."""
    _check_count("proposer responses", len(responses), len(requests))
    parsed = [
        parse_induction_proposal(text, settings.induction_inputs)
        if request.task_type == "induction"
        else parse_proposal(text)
        for request, text in zip(requests, responses)
    ]
    code = [proposal for request, proposal in zip(requests, parsed) if proposal and request.task_type != "induction"]
    induction = [
        (request.program.program, *proposal)
        for request, proposal in zip(requests, parsed)
        if proposal and request.task_type == "induction"
    ]
    code_verdicts = iter(validate_tasks(code, limits=settings.limits))
    induction_verdicts = iter(make_induction_tasks(induction, limits=settings.limits))
    proposals = []
    for request, text, proposal in zip(requests, responses, parsed):
        if proposal is None:
            blocks = (
                f"{settings.induction_inputs} ```input blocks and a ```message block"
                if request.task_type == "induction"
                else "a ```python and an ```input block"
            )
            proposals.append(Proposal(request, text, None, f"malformed: not {blocks}"))
        elif request.task_type == "induction":
            verdict = next(induction_verdicts)
            task, reason = (None, verdict.reason) if isinstance(verdict, Validation) else (verdict, "")
            proposals.append(Proposal(request, text, task, reason))
        else:
            verdict = next(code_verdicts)
            proposals.append(Proposal(request, text, verdict.task, verdict.reason))
    return proposals


def validity(proposals: list[Proposal]) -> dict[str, dict]:
    """Per task type, in order of first appearance: `proposals`, `valid` and `failures` (kind → count)."""
    summary: dict[str, dict] = {}
    for proposal in proposals:
        counts = summary.setdefault(proposal.request.task_type, {"proposals": 0, "valid": 0, "failures": Counter()})
        counts["proposals"] += 1
        counts["valid"] += proposal.task is not None
        if proposal.task is None:
            counts["failures"][proposal.failure] += 1
    return {task_type: {**counts, "failures": dict(counts["failures"])} for task_type, counts in summary.items()}


def verify(items: list[tuple[str, Task, str]], limits: Limits) -> list[tuple[bool, bool]]:
    """`(well_formed, correct)` for each `(task_type, task, response)`: whether the response has
    its answer block, and whether the executor verifies the answer (deduction: the output's value;
    abduction: f(input) equals the output; induction: the program passes every hidden pair)."""
    answers = [(task_type, task, parse_solver_answer(text, task_type)) for task_type, task, text in items]
    code = [answer for answer in answers if answer[0] != "induction"]
    induction = [(task, answer) for task_type, task, answer in answers if task_type == "induction"]
    code_verdicts = iter(check_answers(code, limits=limits))
    induction_verdicts = iter(check_inductions(induction, limits=limits))
    return [
        (answer is not None, next(induction_verdicts if task_type == "induction" else code_verdicts))
        for task_type, _, answer in answers
    ]


def _valid_tasks(proposals: list[Proposal], task_type: str) -> list[Task]:
    return [p.task for p in proposals if p.task is not None and p.request.task_type == task_type]


def learnability_chats(proposals: list[Proposal], settings: SelfPlaySettings) -> list[Chat]:
    """The solver chat of each valid proposal, in order (to be sampled n times)."""
    return [_solver_chat(p.task, p.request.task_type, settings) for p in proposals if p.task is not None]


def success_rates(
    proposals: list[Proposal], samples: list[list[str]], settings: SelfPlaySettings
) -> list[float | None]:
    """s̄ per proposal: the verified share of its n samples (`samples` holds one list per valid
    proposal, in order), None for an invalid one. Raises ValueError for a list count that differs."""
    valid = [p for p in proposals if p.task is not None]
    _check_count("sample lists", len(samples), len(valid))
    items = [(p.request.task_type, p.task, text) for p, texts in zip(valid, samples) for text in texts]
    verdicts = iter(verify(items, settings.limits))
    rates = iter([sum(next(verdicts)[1] for _ in texts) / len(texts) for texts in samples])
    return [next(rates) if p.task is not None else None for p in proposals]


def proposer_reward(success_rate: float | None, settings: SelfPlaySettings) -> float:
    """Eq. 4's learnability of a valid proposal's s̄ (None: an invalid proposal, learnability 0);
    with `format_rule`, Eq. 6 on top: an invalid proposal -1. A valid proposal is passable (§3.1:
    only responses producing a valid task count as well-formed), so it keeps its learnability, 0
    when s̄ is 0 or 1 (AZR's public code gives it -0.5 instead)."""
    if success_rate is None:
        return FORMAT_PENALTY_MALFORMED if settings.format_rule else 0.0
    return learnability_reward(success_rate)


def solve_requests(proposals: list[Proposal], buffers: TaskBuffers, settings: SelfPlaySettings) -> list[SolveRequest]:
    """B solver chats per task type, type after type: this step's valid tasks of the type first (at
    most B), then tasks drawn uniformly from its buffer."""
    requests = []
    for task_type in settings.task_types:
        new = _valid_tasks(proposals, task_type)[: settings.batch_size]
        drawn = buffers.fill(task_type, settings.batch_size - len(new))
        for index, task in enumerate(new + drawn):
            requests.append(SolveRequest(task_type, task, _solver_chat(task, task_type, settings), index < len(new)))
    return requests


def solver_rewards(requests: list[SolveRequest], responses: list[str], settings: SelfPlaySettings) -> list[float]:
    """Eq. 5 per answer (1 verified, else 0); with `format_rule`, Eq. 6 (no answer block -1, a wrong
    answer -0.5). Raises ValueError for a response count that differs."""
    _check_count("solver responses", len(responses), len(requests))
    outcomes = verify([(r.task_type, r.task, text) for r, text in zip(requests, responses)], settings.limits)
    rewards = [solve_reward(correct) for _, correct in outcomes]
    if settings.format_rule:
        return [format_aware_reward(reward, well_formed) for reward, (well_formed, _) in zip(rewards, outcomes)]
    return rewards


def run_step(buffers: TaskBuffers, generate: Generate, settings: SelfPlaySettings) -> StepResult:
    """One self-play step (the module's steps 1-5); valid proposals join `buffers` (in place)
    before the solve batch is drawn. `generate` is called as the module docstring says; raises
    ValueError when it returns the wrong number of responses, naming the phase and the chat."""
    requests = propose_requests(buffers, settings)
    proposed = _generated(generate, [request.chat for request in requests], 1, "propose")
    proposals = make_proposals(requests, [texts[0] for texts in proposed], settings)
    samples = _generated(
        generate, learnability_chats(proposals, settings), settings.learnability_samples, "learnability"
    )
    rates = success_rates(proposals, samples, settings)
    for task_type in settings.task_types:
        buffers.add(task_type, _valid_tasks(proposals, task_type))
    solves = solve_requests(proposals, buffers, settings)
    answers = [texts[0] for texts in _generated(generate, [solve.chat for solve in solves], 1, "solve")]
    propose_role, solve_role = ROLES
    rows = [
        StepRow(p.request.task_type, propose_role, p.request.chat, p.response, proposer_reward(rate, settings))
        for p, rate in zip(proposals, rates)
    ]
    rows += [
        StepRow(solve.task_type, solve_role, solve.chat, answer, reward)
        for solve, answer, reward in zip(solves, answers, solver_rewards(solves, answers, settings))
    ]
    return StepResult(proposals, rates, solves, rows, buffers.sizes())
