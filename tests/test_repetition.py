"""The vectorised repetition penalty against the NLTK + scikit-learn oracle."""

import random

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from benchmarks.question_batches import near_duplicate_batch
from benchmarks.reference_repetition import reference_labels, reference_repetition_penalty
from rzero_rewards import repetition_penalty
from rzero_rewards.repetition import cluster_labels, pairwise_bleu


def same_partition(labels_a, labels_b) -> bool:
    pairs = set(zip(labels_a, labels_b))
    return len(pairs) == len(set(labels_a)) == len(set(labels_b))


def test_pairwise_bleu_matches_nltk_on_every_pair():
    questions = near_duplicate_batch(40, seed=1) + ["a", "a b", "a b c", "", "x y z w v"]
    tokens = [question.split() for question in questions]
    ours = pairwise_bleu(tokens)
    smoothing = SmoothingFunction(epsilon=0.1).method1
    for i in range(len(tokens)):
        for j in range(len(tokens)):
            if i != j:
                expected = sentence_bleu([tokens[j]], tokens[i], smoothing_function=smoothing)
                assert ours[i, j] == pytest.approx(expected, abs=1e-12), (questions[i], questions[j])


@pytest.mark.parametrize("seed", range(5))
def test_same_partition_as_reference_on_near_duplicates(seed):
    questions = near_duplicate_batch(64, seed=seed)
    assert same_partition(cluster_labels(questions), reference_labels(questions))
    assert repetition_penalty(questions) == pytest.approx(reference_repetition_penalty(questions))


@pytest.mark.parametrize("seed", range(5))
def test_same_partition_as_reference_on_random_text(seed):
    rng = random.Random(seed)
    words = ["a", "b", "c", "d", "e"]
    questions = [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(48)]
    assert same_partition(cluster_labels(questions), reference_labels(questions))
    assert repetition_penalty(questions) == pytest.approx(reference_repetition_penalty(questions))


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
def test_threshold_is_respected(threshold):
    questions = near_duplicate_batch(48, seed=7)
    assert repetition_penalty(questions, threshold) == pytest.approx(
        reference_repetition_penalty(questions, threshold)
    )


def test_edge_batches():
    assert repetition_penalty([]) == []
    assert repetition_penalty(["only one"]) == [1.0]
    assert repetition_penalty(["same question here"] * 4) == [1.0] * 4
    distinct = ["what is two plus two", "find all primes below 30", "integrate x squared dx", "solve 3x = 9"]
    assert repetition_penalty(distinct) == [0.25] * 4


def test_penalties_are_cluster_shares():
    penalties = np.array(repetition_penalty(near_duplicate_batch(100, seed=3)))
    assert ((penalties > 0) & (penalties <= 1)).all()
    # Each cluster of size s contributes s members with penalty s / B.
    sizes = np.round(penalties * 100).astype(int)
    for size in set(sizes):
        assert (sizes == size).sum() % size == 0
