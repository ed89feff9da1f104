"""AZR's self-play step (issue 14) with the model replaced by scripted responses: the sandbox,
parsing, validation, buffers and rewards run for real, and every number is computed by hand."""

from collections import Counter

import pytest
import torch

from recipe.azr.buffers import IDENTITY, ZERO_TRIPLE, TaskBuffers
from recipe.azr.selfplay import (
    SelfPlaySettings,
    SolveRequest,
    make_proposals,
    propose_requests,
    proposer_reward,
    run_step,
    solve_requests,
    solver_rewards,
    validity,
)
from recipe.azr.trr import compute_trr_advantage
from recipe.rzero.prompts import code_proposer_messages
from rzero_rewards.code import CodeTask, InductionTask, induction_proposer_prompt, solver_prompt
from rzero_rewards.code.prompts import PROPOSER_FOLLOW_UP


def block(tag: str, body: str) -> str:
    return f"```{tag}\n{body}\n```"


class ScriptedModel:
    """`generate(chats, n, phase)` of a model whose responses are written in advance: the first call (the
    proposals) answers by position, later calls by (n, the chat's last user turn)."""

    def __init__(self, proposals: list[str], answers: dict[tuple[int, str], list[str]]):
        self.proposals, self.answers, self.calls = proposals, answers, []

    def __call__(self, chats, n, phase):
        self.calls.append((len(chats), n, phase))
        if len(self.calls) == 1:
            return [[text] for text in self.proposals]
        return [self.answers[n, chat[-1]["content"]] for chat in chats]


D0 = CodeTask("def f(x):\n    return x * 2", "3", "6")
A0 = CodeTask("def f(s):\n    return s[::-1]", "'abc'", "'cba'")
A1 = CodeTask("def f(n):\n    return n % 3", "7", "1")
MESSAGE = "It returns its argument."
I0 = InductionTask(IDENTITY, (("1", "1"), ("'a'", "'a'")), (("[2]", "[2]"), ("None", "None")), MESSAGE)
SEED_INDUCTION = TaskBuffers.seeded().tasks["induction"][0]


def proposal(task_or_program, arguments=None) -> str:
    if isinstance(task_or_program, CodeTask):
        task_or_program, arguments = task_or_program.program, task_or_program.input
    return f"Plan: something new.\n{block('python', task_or_program)}\n{block('input', arguments)}"


def inputs(*texts: str) -> str:
    return "\n".join(block("input", text) for text in texts) + "\n" + block("message", MESSAGE)


PROPOSALS = [
    proposal(D0),  # valid
    proposal("def f(x):\n    return x // 0", "1"),  # error: ZeroDivisionError
    "f doubles its input, and the input is 3.",  # malformed: no blocks
    proposal(A0),  # valid
    proposal(A1),  # valid
    proposal("import os\ndef f(x):\n    return os.getcwd()", "1"),  # rejected by the static check
    inputs("1", "'a'", "[2]", "None"),  # valid: the program is the identity (the seeded buffers' only one)
    inputs("1", "1", "1", "1"),  # fewer than two distinct inputs
    inputs("1", "2", "3"),  # malformed: 3 inputs, not N = 4
]
N = 4
LEARNABILITY = {  # n = 4 samples per valid proposal -> s̄
    ("deduction", D0): ([block("output", "6"), f"6.\n{block('output', '6')}", block("output", "7"), "six"], 0.5),
    ("abduction", A0): ([block("input", "'abc'")] * 4, 1.0),
    ("abduction", A1): ([block("input", "10"), block("input", "8"), block("input", "8"), "no idea"], 0.25),
    ("induction", I0): ([block("python", "def f(x):\n    return 0")] * 4, 0.0),
}
SOLVE = {  # one answer per task that can be in the solve batch -> its reward under Eq. 6
    ("deduction", D0): (block("output", "5"), -0.5),
    ("deduction", ZERO_TRIPLE): (block("output", "'Hello World'"), 1.0),
    ("abduction", A0): ("It is the reverse of 'cba'.", -1.0),
    ("abduction", A1): (block("input", "4"), 1.0),  # not the proposed input, but f(4) == 1
    ("abduction", ZERO_TRIPLE): (block("input", "'Hello World'"), 1.0),
    ("induction", I0): (block("python", "def f(x):\n    return x"), 1.0),
    ("induction", SEED_INDUCTION): (block("python", "def f(x):\n    return str(x)"), -0.5),
}


def scripted_model() -> ScriptedModel:
    answers = {(N, solver_prompt(task, kind)): texts for (kind, task), (texts, _) in LEARNABILITY.items()}
    answers |= {(1, solver_prompt(task, kind)): [text] for (kind, task), (text, _) in SOLVE.items()}
    return ScriptedModel(PROPOSALS, answers)


def test_one_step_over_all_three_task_types():
    buffers = TaskBuffers.seeded(seed=3)
    settings = SelfPlaySettings(batch_size=3, references=2, learnability_samples=N, induction_inputs=N)
    model = scripted_model()
    result = run_step(buffers, model, settings)

    assert model.calls == [(9, 1, "propose"), (4, N, "learnability"), (9, 1, "solve")]  # learnability: valid proposals only
    first_deduction, *_, first_induction = (p.request for p in result.proposals[:7])
    assert first_deduction.chat == code_proposer_messages("deduction", [ZERO_TRIPLE])  # K = 2, one in the buffer
    assert first_induction.chat[-1]["content"] == induction_proposer_prompt(IDENTITY, N)

    assert [p.task for p in result.proposals] == [D0, None, None, A0, A1, None, I0, None, None]
    assert validity(result.proposals) == {
        "deduction": {"proposals": 3, "valid": 1, "failures": {"error": 1, "malformed": 1}},
        "abduction": {"proposals": 3, "valid": 2, "failures": {"rejected": 1}},
        "induction": {"proposals": 3, "valid": 1, "failures": {"fewer than two distinct inputs": 1, "malformed": 1}},
    }
    assert result.buffer_sizes == {"deduction": 2, "abduction": 3, "induction": 2}
    assert buffers.tasks["abduction"][1:] == [A0, A1] and buffers.tasks["induction"][1] == I0

    assert result.success_rates == [0.5, None, None, 1.0, 0.25, None, 0.0, None, None]
    propose_rows, solve_rows = result.rows[:9], result.rows[9:]
    # learnability 1 - s̄ for 0 < s̄ < 1, else 0; Eq. 6: invalid -1
    assert [row.reward for row in propose_rows] == [0.5, -1.0, -1.0, 0.0, 0.75, -1.0, 0.0, -1.0, -1.0]
    assert [row.response for row in propose_rows] == PROPOSALS

    assert [solve.new for solve in result.solves] == [True, False, False, True, True, False, True, False, False]
    assert [solve.task for solve in result.solves if solve.new] == [D0, A0, A1, I0]
    for solve, row in zip(result.solves, solve_rows):
        assert solve.task in buffers.tasks[solve.task_type]
        assert (row.response, row.reward) == SOLVE[solve.task_type, solve.task]

    assert Counter(row.group for row in result.rows) == {
        f"{kind}/{role}": 3 for kind in ("deduction", "abduction", "induction") for role in ("propose", "solve")
    }
    rewards = torch.zeros(len(result.rows), 2)
    rewards[:, -1] = torch.tensor([row.reward for row in result.rows])
    advantages, _ = compute_trr_advantage(rewards, torch.ones_like(rewards), [row.group for row in result.rows])
    # deduction/propose: rewards 0.5, -1, -1: mean -0.5, std sqrt(0.75)
    assert advantages[:3, 0].tolist() == pytest.approx([1 / 0.75**0.5, -0.5 / 0.75**0.5, -0.5 / 0.75**0.5], abs=1e-5)


def test_an_induction_proposal_with_a_bad_input_fails_with_the_sandbox_status():
    settings = SelfPlaySettings(batch_size=1, task_types=("induction",), induction_inputs=N)
    requests = propose_requests(TaskBuffers.seeded(), settings)
    (invalid,) = make_proposals(requests, [inputs("1", "2", "[3,", "4")], settings)
    assert invalid.task is None and invalid.failure == "bad_input" and f"(input 3 of {N})" in invalid.reason


@pytest.mark.parametrize(
    ("success_rate", "with_rule", "without_rule"),
    [(None, -1.0, 0.0), (0.0, 0.0, 0.0), (0.5, 0.5, 0.5), (1.0, 0.0, 0.0)],
)
def test_the_proposer_reward_with_and_without_the_format_rule(success_rate, with_rule, without_rule):
    assert proposer_reward(success_rate, SelfPlaySettings()) == with_rule
    assert proposer_reward(success_rate, SelfPlaySettings(format_rule=False)) == without_rule


def test_the_solver_reward_with_and_without_the_format_rule():
    request = SolveRequest("deduction", ZERO_TRIPLE, [], new=False)
    answers = [block("output", "'Hello World'"), block("output", "'Hello'"), "Hello World"]
    assert solver_rewards([request] * 3, answers, SelfPlaySettings()) == [1.0, -0.5, -1.0]
    assert solver_rewards([request] * 3, answers, SelfPlaySettings(format_rule=False)) == [1.0, 0.0, 0.0]


def test_the_one_shot_option_and_the_induction_programs():
    buffers = TaskBuffers.seeded(seed=1)
    buffers.add("abduction", [A0])
    assert {task.program for task in buffers.programs(100)} == {IDENTITY, A0.program}  # D_ded ∪ D_abd

    settings = SelfPlaySettings(batch_size=2, references=1, format_example=True)
    requests = propose_requests(buffers, settings)
    assert [len(r.chat) for r in requests] == [3, 3, 3, 3, 1, 1]  # no induction example exists yet
    assert requests[0].chat[-1]["content"].endswith(PROPOSER_FOLLOW_UP)
    assert all(len(r.references) == 1 and r.references[0] in buffers.tasks[r.task_type] for r in requests[:4])
    assert all(r.program.program in (IDENTITY, A0.program) for r in requests[4:])
    solves = solve_requests([], buffers, settings)
    assert [(s.task_type, len(s.chat), s.new) for s in solves[::2]] == [
        ("deduction", 3, False),
        ("abduction", 3, False),
        ("induction", 1, False),
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"task_types": ("deduction", "sorting")}, "unknown task type 'sorting'; known: deduction, abduction, induction"),
        ({"task_types": ("deduction", "deduction")}, "task_types must name each task type at most once"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"induction_inputs": 1}, "induction_inputs must be at least 2, got 1"),
    ],
)  # fmt: skip
def test_bad_settings_are_clear_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        SelfPlaySettings(**settings)


def test_more_references_than_a_buffer_can_hold_is_a_clear_error():
    with pytest.raises(ValueError, match="K = 6 references cannot be drawn from buffers of at most 4 tasks"):
        propose_requests(TaskBuffers.seeded(max_size=4), SelfPlaySettings(references=6))


def test_a_generator_returning_the_wrong_number_of_responses_is_a_clear_error():
    settings = SelfPlaySettings(batch_size=3, references=2, learnability_samples=N, induction_inputs=N)
    short = scripted_model()
    short.proposals = PROPOSALS[:-1]
    with pytest.raises(ValueError, match="8 response lists from generate for the propose phase for 9 chats"):
        run_step(TaskBuffers.seeded(), short, settings)

    few = scripted_model()
    few.answers[N, solver_prompt(D0, "deduction")] = LEARNABILITY["deduction", D0][0][:3]
    with pytest.raises(ValueError, match="generate returned 3 responses for learnability chat 0; n = 4 strings"):
        run_step(TaskBuffers.seeded(), few, settings)

    requests = propose_requests(TaskBuffers.seeded(), settings)
    with pytest.raises(ValueError, match="2 proposer responses for 9 chats"):
        make_proposals(requests, PROPOSALS[:2], settings)
