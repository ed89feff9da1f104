"""The chat prompts of both roles: one definition, used by training, the stages and evaluation.

`format_example=True` puts one worked exchange in the required format before the real request
(a one-shot prompt). The paper does not; tiny models such as the embedded SmolLM2-135M otherwise
almost never write `<question>` blocks or `\\boxed{}` answers, which leaves every reward at 0, and
the embedded Qwen2.5-Coder-0.5B seldom writes the code tasks' fenced blocks (measured in
benchmarks/README.md).
"""

from __future__ import annotations

from rzero_rewards.code import CodeTask, proposer_example, proposer_prompt, solver_example, solver_prompt
from rzero_rewards.code.prompts import PROPOSER_FOLLOW_UP

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


LAST_NUMBER_HELP = "without a \\boxed{} answer, grade the last number (for tiny models; the paper: off)"
FORMAT_EXAMPLE_HELP = "show one worked example of the output format first (for tiny models; the paper: off)"

SOLVER_EXAMPLE = (
    "A shop sells pencils in packs of 6. Mia buys 4 packs and gives away 5 pencils. "
    "How many pencils does she have left?",
    "Mia buys 4 packs of 6 pencils, so she has 4 × 6 = 24 pencils. She gives away 5, leaving 24 − 5 = 19.\n\n"
    "\\boxed{19}",
)
CHALLENGER_EXAMPLE = (
    "<question>\nA rectangle has perimeter 30 and area 56. What is the length of its longer side?\n</question>\n\n"
    "\\boxed{8}"
)


def solver_messages(question: str, format_example: bool = False) -> list[dict[str, str]]:
    """The chat the Solver answers: the step-by-step system prompt and the question."""
    example = [
        {"role": "user", "content": SOLVER_EXAMPLE[0]},
        {"role": "assistant", "content": SOLVER_EXAMPLE[1]},
    ]
    return [
        {"role": "system", "content": SOLVER_SYSTEM_PROMPT},
        *(example if format_example else []),
        {"role": "user", "content": question},
    ]


def challenger_messages(format_example: bool = False) -> list[dict[str, str]]:
    """The fixed chat that asks the Challenger for one `<question>` and its `\\boxed{}` answer."""
    request = {"role": "user", "content": CHALLENGER_USER_PROMPT}
    example = [request, {"role": "assistant", "content": CHALLENGER_EXAMPLE}]
    return [{"role": "system", "content": CHALLENGER_SYSTEM_PROMPT}, *(example if format_example else []), request]


def _one_shot(example: tuple[str, str] | None, request: str) -> list[dict[str, str]]:
    """The user turn `request`, after the `(request, answer)` exchange `example` if there is one."""
    shown = [{"role": "user", "content": example[0]}, {"role": "assistant", "content": example[1]}] if example else []
    return [*shown, {"role": "user", "content": request}]


def code_proposer_messages(
    task_type: str, references: list[CodeTask] = (), format_example: bool = False
) -> list[dict[str, str]]:
    """The chat in which the Challenger proposes a code task of `task_type` (deduction or abduction:
    a program and one input), after `references` (past valid tasks; none in the first iteration);
    `format_example` shows one well-formed proposal first (`rzero_rewards.code.proposer_example`)
    and asks for a different one."""
    request = proposer_prompt(task_type, list(references))
    if not format_example:
        return _one_shot(None, request)
    return _one_shot(proposer_example(task_type), request + PROPOSER_FOLLOW_UP)


def code_solver_messages(task: CodeTask, task_type: str, format_example: bool = False) -> list[dict[str, str]]:
    """The chat in which the Solver answers a code task: predict the output (deduction) or an input
    (abduction); `format_example` shows one answered task of that type first (`solver_example`)."""
    return _one_shot(solver_example(task_type) if format_example else None, solver_prompt(task, task_type))
