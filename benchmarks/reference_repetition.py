"""The repetition penalty exactly as specified, with NLTK and scikit-learn: the test oracle.

Slow by construction (B² NLTK `sentence_bleu` calls); `rzero_rewards.repetition_penalty` must
produce the same partition and penalties.
"""

from __future__ import annotations

import numpy as np
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from sklearn.cluster import AgglomerativeClustering


def reference_distances(questions: list[str]) -> np.ndarray:
    """d(i, j) = d(j, i) = 1 − BLEU(hypothesis = q_i, references = [q_j]) for i < j."""
    tokens = [question.split() for question in questions]
    smoothing = SmoothingFunction(epsilon=0.1).method1
    distances = np.zeros((len(questions), len(questions)))
    for i in range(len(questions)):
        for j in range(i + 1, len(questions)):
            bleu = sentence_bleu([tokens[j]], tokens[i], smoothing_function=smoothing)
            distances[i, j] = distances[j, i] = 1.0 - bleu
    return distances


def reference_labels(questions: list[str], threshold: float = 0.5) -> np.ndarray:
    """scikit-learn's average-linkage clusters on the precomputed distances."""
    if len(questions) < 2:
        return np.zeros(len(questions), dtype=np.int64)
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=threshold
    )
    return clustering.fit_predict(reference_distances(questions))


def reference_repetition_penalty(questions: list[str], threshold: float = 0.5) -> list[float]:
    """penalty_i = |cluster(i)| / B."""
    if not questions:
        return []
    labels = reference_labels(questions, threshold)
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    return (sizes[inverse] / len(questions)).tolist()
