"""The prompts of both roles, with and without the one-shot format example."""

from recipe.rzero.prompts import (
    CHALLENGER_EXAMPLE,
    SOLVER_EXAMPLE,
    challenger_messages,
    code_proposer_messages,
    code_solver_messages,
    solver_messages,
)
from rzero_rewards import extract_answer, parse_challenger_output
from rzero_rewards.code import CodeTask, proposer_example, proposer_prompt, solver_example, solver_prompt


def test_paper_prompts_have_no_example():
    assert [m["role"] for m in solver_messages("Q?")] == ["system", "user"]
    assert [m["role"] for m in challenger_messages()] == ["system", "user"]
    task = CodeTask("def f(a):\n    return a + 1", "1", "2")
    for task_type in ("deduction", "abduction"):
        assert code_proposer_messages(task_type) == [{"role": "user", "content": proposer_prompt(task_type, [])}]
        assert code_solver_messages(task, task_type) == [{"role": "user", "content": solver_prompt(task, task_type)}]


def test_format_examples_are_well_formed_exchanges_before_the_request():
    solver = solver_messages("What is 2 + 2?", format_example=True)
    assert [m["role"] for m in solver] == ["system", "user", "assistant", "user"]
    assert solver[-1]["content"] == "What is 2 + 2?"
    assert extract_answer(SOLVER_EXAMPLE[1]) == "19"  # 4 × 6 − 5, boxed
    challenger = challenger_messages(format_example=True)
    assert [m["role"] for m in challenger] == ["system", "user", "assistant", "user"]
    assert parse_challenger_output(CHALLENGER_EXAMPLE) == (
        "A rectangle has perimeter 30 and area 56. What is the length of its longer side?",
        "8",
    )


def test_code_format_examples_come_before_the_request():
    task = CodeTask("def f(a):\n    return a + 1", "1", "2")
    for task_type in ("deduction", "abduction"):
        proposer = code_proposer_messages(task_type, [task], format_example=True)
        assert [m["role"] for m in proposer] == ["user", "assistant", "user"]
        assert (proposer[0]["content"], proposer[1]["content"]) == proposer_example(task_type)
        assert proposer[2]["content"].startswith(proposer_prompt(task_type, [task]))  # then: write a different one
        solver = code_solver_messages(task, task_type, format_example=True)
        assert [(m["role"], m["content"]) for m in solver] == [
            ("user", solver_example(task_type)[0]),
            ("assistant", solver_example(task_type)[1]),
            ("user", solver_prompt(task, task_type)),
        ]
