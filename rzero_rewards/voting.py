"""Majority vote over a solver's m sampled answers: the pseudo-label and its agreement p̂."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .equivalence import is_equivalent, normalize_answer


@dataclass(frozen=True)
class Vote:
    """The outcome of `majority_vote`.

    Attributes:
        label: the winning answer, spelled as its class's most common spelling; `None` when no
            answer was given at all.
        p_hat: share of *all* m answers (missing ones included) in the winning class.
        counts: size of each equivalence class, keyed by its label, largest first.
    """

    label: str | None
    p_hat: float
    counts: dict[str, int] = field(default_factory=dict)


def majority_vote(answers: list[str | None], timeout_s: float = 5.0) -> Vote:
    """Group `answers` into equivalence classes and return the largest one.

    `None` answers (no `\\boxed{}`) count in the denominator of p̂ but cannot win. Ties go to the
    class whose first answer came first, so the result depends only on the input order. Each
    class is represented by its first member; a new answer joins the first class it is
    equivalent to (`is_equivalent`, with the representative as the gold side).

    >>> majority_vote(["1/2", "0.5", "3", None]).p_hat
    0.5
    """
    if not answers:
        raise ValueError("majority_vote needs at least one answer (got an empty list)")
    # Identical normalised spellings need one comparison per class, not one per answer.
    spellings: dict[str, list[str]] = {}
    for answer in answers:
        if answer is not None and normalize_answer(answer):
            spellings.setdefault(normalize_answer(answer), []).append(answer)
    classes: list[list[str]] = []  # each a list of spellings' members, in first-seen order
    for members in spellings.values():
        for group in classes:
            if is_equivalent(members[0], group[0], timeout_s):
                group.extend(members)
                break
        else:
            classes.append(list(members))
    if not classes:
        return Vote(label=None, p_hat=0.0, counts={})
    labelled = [(Counter(group).most_common(1)[0][0], len(group)) for group in classes]
    ranked = sorted(labelled, key=lambda item: -item[1])  # stable: earlier classes win ties
    label, size = ranked[0]
    return Vote(label=label, p_hat=size / len(answers), counts=dict(ranked))
