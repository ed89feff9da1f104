"""Benchmark the reward library against its baselines, measured in the same run.

1. Repetition penalty: the NLTK + scikit-learn reference vs `rzero_rewards.repetition_penalty`
   on near-duplicate question batches (same partition asserted). Target: ≥ 100× at B = 2048.
2. Majority vote + grading: 1000 questions × 10 answers, (a) the common case where answers are
   plain numbers, (b) mixed LaTeX spellings with adversarial answers that hang math-verify.
   Targets: no hang, ≥ 2,000 answers/s in case (a), ≥ 1,000 answers/s in case (b) (issue 12); every
   verdict is checked against the exact one (an adversarial answer is never equivalent).

    python -m benchmarks.bench_rewards                  # full run (the reference at B = 2048 takes minutes)
    python -m benchmarks.bench_rewards --quick          # B = 256 only, 200 questions
    python -m benchmarks.bench_rewards --only grading   # part 2 alone
"""

from __future__ import annotations

import argparse
import random
import time
from fractions import Fraction

import numpy as np

from benchmarks.question_batches import near_duplicate_batch
from benchmarks.reference_repetition import reference_labels
from rzero_rewards import equivalence_stats, is_equivalent, majority_vote, reset_equivalence_stats
from rzero_rewards.repetition import cluster_labels

ADVERSARIAL = [r"9^{9^{9^{9}}}", r"\frac{" * 200 + "1" + "}" * 200, "x" * 20_000, r"10^{10^{10^{10}}}!"]


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def bench_repetition(batch_sizes: list[int]) -> None:
    print("| B | reference (NLTK + sklearn) s | rzero s | speed-up | clusters | same partition |")
    print("|---|---|---|---|---|---|")
    for size in batch_sizes:
        questions = near_duplicate_batch(size, seed=size)
        ours, ours_s = _timed(cluster_labels, questions)
        reference, reference_s = _timed(reference_labels, questions)
        same = len(set(zip(ours, reference))) == len(set(ours)) == len(set(reference))
        assert same, f"partitions differ at B = {size}"
        print(f"| {size} | {reference_s:.2f} | {ours_s:.3f} | {reference_s / ours_s:.0f}× | {len(set(ours))} | {same} |")


def _answer_sets(questions: int, mixed: bool, seed: int) -> list[tuple[str, list[str | None]]]:
    """(gold, 10 sampled answers) per question, like a solver that is right about half the time."""
    rng = random.Random(seed)
    sets = []
    for _ in range(questions):
        numerator, denominator = rng.randint(1, 50), rng.randint(2, 9)
        if mixed:
            gold = rf"\frac{{{numerator}}}{{{denominator}}}"
            spellings = [gold, f"{numerator}/{denominator}", rf"\dfrac{{{numerator}}}{{{denominator}}}"]
        else:
            gold = str(numerator * denominator)
            spellings = [gold]
        answers: list[str | None] = []
        for _ in range(10):
            roll = rng.random()
            if roll < 0.5:
                answers.append(rng.choice(spellings))
            elif roll < 0.9:
                answers.append(str(rng.randint(1, 400)))
            else:
                answers.append(None)
        if mixed and rng.random() < 0.01:
            answers[rng.randrange(10)] = rng.choice(ADVERSARIAL)
        sets.append((gold, answers))
    return sets


def _vote_and_grade(sets: list[tuple[str, list[str | None]]]) -> list[bool]:
    verdicts = []
    for gold, answers in sets:
        majority_vote(answers)
        verdicts += [is_equivalent(answer, gold) for answer in answers]
    return verdicts


def _value(spelling: str) -> Fraction:
    """The value of the benchmark's own spellings: `n`, `a/b`, `\\frac{a}{b}`, `\\dfrac{a}{b}`."""
    return Fraction(spelling.replace("\\dfrac", "").replace("\\frac", "").replace("}{", "/").strip("{}"))


def _exact_verdicts(sets: list[tuple[str, list[str | None]]]) -> list[bool]:
    """What every comparison must return: equal values, and never for a missing or adversarial answer."""
    return [
        answer is not None and answer not in ADVERSARIAL and _value(answer) == _value(gold)
        for gold, answers in sets
        for answer in answers
    ]


def bench_grading(questions: int) -> None:
    is_equivalent("1", "1/1")  # start a math-verify worker outside the measured time
    print("| case | questions × answers | seconds | answers/s | math-verify calls | timeouts |")
    print("|---|---|---|---|---|---|")
    for name, mixed in (("plain numbers", False), ("LaTeX spellings + 1% adversarial", True)):
        sets = _answer_sets(questions, mixed, seed=1)
        reset_equivalence_stats()
        verdicts, seconds = _timed(_vote_and_grade, sets)
        stats = equivalence_stats()
        assert verdicts == _exact_verdicts(sets), f"{name}: a verdict differs from the exact one"
        answers = questions * 10
        print(
            f"| {name} | {questions} × 10 | {seconds:.2f} | {answers / seconds:,.0f} "
            f"| {stats.get('math_verify', 0)} | {stats.get('timeouts', 0)} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=["repetition", "grading"], help="run one part")
    args = parser.parse_args(argv)
    np.random.seed(0)
    if args.only != "grading":
        bench_repetition([256] if args.quick else [512, 2048])
        print()
    if args.only != "repetition":
        bench_grading(200 if args.quick else 1000)


if __name__ == "__main__":
    main()
