"""Realistic Challenger-like question batches with near-duplicates, for tests and benchmarks.

A Challenger's rollout batch mixes genuinely different problems with rephrasings of the same
problem (other numbers, a changed word). Each question here comes from one of a set of
competition-style templates, with random numbers and, sometimes, a small edit.
"""

from __future__ import annotations

import random

TEMPLATES = [
    "Let $f(x) = {a}x^2 + {b}x + {c}$. Find the sum of all real values of $x$ such that $f(f(x)) = {d}$.",
    "How many positive integers less than ${n}$ are divisible by ${a}$ or ${b}$ but not by ${c}$?",
    "A bag contains ${a}$ red balls and ${b}$ blue balls. Two balls are drawn without replacement. "
    "What is the probability that both are the same color? Express your answer as a common fraction.",
    "Find the remainder when ${a}^{{{n}}}$ is divided by ${c}$.",
    "In triangle $ABC$, $AB = {a}$, $BC = {b}$, and $CA = {c}$. Find the length of the altitude from $A$ to $BC$.",
    "The sequence $a_1, a_2, \\dots$ satisfies $a_1 = {a}$ and $a_{{n+1}} = {b}a_n - {c}$ for $n \\ge 1$. "
    "Find $a_{{{d}}}$.",
    "How many ways are there to arrange the letters of a word with ${a}$ distinct vowels and ${b}$ distinct "
    "consonants so that no two vowels are adjacent?",
    "Find the number of ordered pairs of integers $(x, y)$ with $x^2 + y^2 \\le {n}$.",
    "A rectangle has perimeter ${n}$ and area ${a}$. What is the length of its diagonal?",
    "Compute $\\sum_{{k=1}}^{{{n}}} \\frac{{1}}{{k(k+{a})}}$. Express your answer as a common fraction.",
    "What is the smallest positive integer $n$ such that $n \\equiv {a} \\pmod{{{b}}}$ and $n \\equiv {c} "
    "\\pmod{{{d}}}$?",
    "A circle of radius ${a}$ is inscribed in a right triangle with one leg of length ${b}$. Find the hypotenuse.",
    "Let $z$ be a complex number with $|z| = {a}$ and $|z - {b}| = {c}$. Find the real part of $z$.",
    "How many subsets of $\\{{1, 2, \\dots, {n}\\}}$ have a sum divisible by ${a}$?",
    "Solve for $x$: $\\log_{{{a}}}(x + {b}) + \\log_{{{a}}}(x - {c}) = {d}$.",
    "The polynomial $x^3 - {a}x^2 + {b}x - {c}$ has roots $r, s, t$. Find $r^2 + s^2 + t^2$.",
    "A fair die is rolled ${a}$ times. What is the probability that the sum of the rolls is exactly ${n}$?",
    "Find the greatest common divisor of ${n}$ and ${a}{b}{c}$.",
    "A train travels ${a}$ miles at ${b}$ miles per hour and then ${c}$ miles at ${d}$ miles per hour. "
    "What is its average speed for the whole trip?",
    "Find the area of the region bounded by $y = |x - {a}| + |x + {b}|$ and $y = {n}$.",
]
EDIT_WORDS = ["Determine", "Compute", "Calculate", "exactly", "real", "positive", "distinct", "total"]


def _fill(template: str, rng: random.Random) -> str:
    values = {key: rng.randint(2, 12) for key in "abcd"}
    return template.format(n=rng.randint(20, 500), **values)


def _edit(question: str, rng: random.Random) -> str:
    words = question.split()
    position = rng.randrange(len(words))
    if rng.random() < 0.5:
        words[position] = rng.choice(EDIT_WORDS)
    else:
        words.insert(position, rng.choice(EDIT_WORDS))
    return " ".join(words)


def near_duplicate_batch(size: int, seed: int = 0, duplicate_rate: float = 0.3) -> list[str]:
    """`size` questions; about `duplicate_rate` of them are lightly edited copies of earlier ones."""
    rng = random.Random(seed)
    questions: list[str] = []
    for _ in range(size):
        if questions and rng.random() < duplicate_rate:
            questions.append(_edit(rng.choice(questions), rng))
        else:
            questions.append(_fill(rng.choice(TEMPLATES), rng))
    return questions
