"""The prompts of both roles, with and without the one-shot format example."""

from recipe.rzero.prompts import CHALLENGER_EXAMPLE, SOLVER_EXAMPLE, challenger_messages, solver_messages
from rzero_rewards import extract_answer, parse_challenger_output


def test_paper_prompts_have_no_example():
    assert [m["role"] for m in solver_messages("Q?")] == ["system", "user"]
    assert [m["role"] for m in challenger_messages()] == ["system", "user"]


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
