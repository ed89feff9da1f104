"""The Challenger's batch repetition penalty (R-Zero §3.2), vectorised.

Definition (the contract, equal to `benchmarks/reference_repetition.py`, which uses NLTK and
scikit-learn directly): tokens are `q.split()`; for i < j the distance is
d(i, j) = d(j, i) = 1 − BLEU(hypothesis = q_i, references = [q_j]), sentence BLEU with 4-gram
uniform weights, brevity penalty and NLTK's smoothing `method1` (epsilon 0.1); questions are
clustered by average linkage, merging while the distance is below the threshold; the penalty of
question i is the size of its cluster over the batch size.

Instead of B² calls to NLTK this builds sparse n-gram count matrices, gets every pair's clipped
n-gram matches from a few sparse products (min(a, b) = Σ_t [a ≥ t][b ≥ t]), and clusters with
SciPy's linkage.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage

from .rewards import CHALLENGER_REWARD_DEFAULTS

MAX_ORDER = 4
SMOOTHING_EPSILON = 0.1


def _ngram_counts(token_lists: list[list[str]], order: int) -> sparse.csr_matrix:
    """Rows: questions; columns: distinct n-grams of this order; values: occurrence counts."""
    vocabulary: dict[tuple[str, ...], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for row, tokens in enumerate(token_lists):
        for start in range(len(tokens) - order + 1):
            rows.append(row)
            cols.append(vocabulary.setdefault(tuple(tokens[start : start + order]), len(vocabulary)))
    ones = np.ones(len(rows), dtype=np.int32)
    counts = sparse.csr_matrix((ones, (rows, cols)), shape=(len(token_lists), len(vocabulary)))
    counts.sum_duplicates()
    return counts


def _clipped_matches(counts: sparse.csr_matrix) -> np.ndarray:
    """M[i, j] = Σ_g min(counts[i, g], counts[j, g]), as Σ_t [counts ≥ t] [counts ≥ t]ᵀ."""
    matches = np.zeros((counts.shape[0], counts.shape[0]), dtype=np.int64)
    level = 1
    while True:
        reached = (counts >= level).astype(np.int32)
        if reached.nnz == 0:
            return matches
        matches += (reached @ reached.T).toarray()
        level += 1


def pairwise_bleu(token_lists: list[list[str]]) -> np.ndarray:
    """B × B matrix whose [i, j] is sentence BLEU(hypothesis = i, references = [j]), as NLTK's
    `sentence_bleu` with `SmoothingFunction().method1` computes it."""
    lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.float64)
    log_precision_sum = np.zeros((len(token_lists), len(token_lists)))
    unigram_matches = None
    for order in range(1, MAX_ORDER + 1):
        matches = _clipped_matches(_ngram_counts(token_lists, order)).astype(np.float64)
        if order == 1:
            unigram_matches = matches
        hypothesis_ngrams = np.maximum(1.0, lengths - order + 1)[:, None]
        numerator = np.where(matches == 0, SMOOTHING_EPSILON, matches)
        log_precision_sum += np.log(numerator / hypothesis_ngrams) / MAX_ORDER
    hyp, ref = lengths[:, None], lengths[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):  # hyp == 0 rows are zeroed below
        brevity = np.where(hyp > ref, 1.0, np.exp(1.0 - ref / hyp))
    brevity = np.where(hyp == 0, 0.0, brevity)
    bleu = brevity * np.exp(log_precision_sum)
    return np.where(unigram_matches == 0, 0.0, bleu)


def cluster_labels(
    questions: list[str], threshold: float = CHALLENGER_REWARD_DEFAULTS.repetition_threshold
) -> np.ndarray:
    """Cluster id of each question under the penalty's BLEU distance and average linkage."""
    if len(questions) < 2:
        return np.zeros(len(questions), dtype=np.int64)
    bleu = pairwise_bleu([question.split() for question in questions])
    upper_i, upper_j = np.triu_indices(len(questions), k=1)
    condensed = 1.0 - bleu[upper_i, upper_j]  # d(i, j) for i < j, SciPy's condensed order
    tree = linkage(condensed, method="average")
    # Merge while distance < threshold, as scikit-learn's `distance_threshold` does.
    return fcluster(tree, t=np.nextafter(threshold, -np.inf), criterion="distance")


def repetition_penalty(
    questions: list[str], threshold: float = CHALLENGER_REWARD_DEFAULTS.repetition_threshold
) -> list[float]:
    """Each question's share of the batch that falls in its own near-duplicate cluster.

    A batch of distinct questions gets 1/B each; B copies of one question get 1.0 each.

    >>> repetition_penalty(["what is 2 + 2 ?", "what is 2 + 2 ?", "name a prime above 100"])
    [0.6666666666666666, 0.6666666666666666, 0.3333333333333333]
    """
    if not questions:
        return []
    labels = cluster_labels(questions, threshold)
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    return (sizes[inverse] / len(questions)).tolist()
