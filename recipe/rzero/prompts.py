"""The chat prompts of both roles: one definition, used by training, the stages and evaluation."""

from __future__ import annotations

SOLVER_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."

CHALLENGER_SYSTEM_PROMPT = (
    "You are an expert setter of competition mathematics problems.\n"
    "First, think privately, step by step, to design a new and non-trivial problem. It may come from any "
    "area of mathematics: algebra, geometry, number theory, combinatorics, prealgebra, probability, "
    "statistics or calculus. Make it hard enough that fewer than 30% of strong high-school students "
    "would solve it, and do not reuse textbook exercises or well-known contest problems.\n"
    "Then, without showing your private thinking, output exactly these two blocks:\n\n"
    "<question>\n"
    "{the complete problem statement, on one or more lines}\n"
    "</question>\n\n"
    "\\boxed{final_answer}\n\n"
    "Output nothing else: no explanation and no other markup."
)
CHALLENGER_USER_PROMPT = (
    "Write one new, challenging reasoning question now, formatted exactly as instructed."
)


def solver_messages(question: str) -> list[dict[str, str]]:
    """The chat the Solver answers: the step-by-step system prompt and the question."""
    return [
        {"role": "system", "content": SOLVER_SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]


def challenger_messages() -> list[dict[str, str]]:
    """The fixed chat that asks the Challenger for one `<question>` and its `\\boxed{}` answer."""
    return [
        {"role": "system", "content": CHALLENGER_SYSTEM_PROMPT},
        {"role": "user", "content": CHALLENGER_USER_PROMPT},
    ]
