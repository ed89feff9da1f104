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


def _most_common(spellings: list[str]) -> str:
    """The most frequent spelling; among equally frequent ones, the first in sorted order."""
    counts = Counter(spellings)
    return min(counts, key=lambda spelling: (-counts[spelling], spelling))


def majority_vote(answers: list[str | None], timeout_s: float = 5.0) -> Vote:
    """Group `answers` into equivalence classes and return the largest one.

    The result depends only on the multiset of answers, never on their order (issue 12):
    answers with the same `normalize_answer` spelling are one group; groups are taken largest
    first (equal sizes: by spelling), and each joins the first class whose founding group it is
    equivalent to *in either direction* (math-verify's `verify(gold, answer)` is one-directional:
    `verify("6", "2a + b = 6")` holds, the reverse does not), else founds a new class. Ties
    between classes go to the one founded first, so to the larger, then alphabetically first,
    spelling. `None` answers (no `\\boxed{}`) count in the denominator of p̂ but cannot win.

    >>> majority_vote(["1/2", "0.5", "3", None]).p_hat
    0.5
    """
    if not answers:
        raise ValueError("majority_vote needs at least one answer (got an empty list)")
    groups: dict[str, list[str]] = {}
    for answer in answers:
        if answer is not None and (spelling := normalize_answer(answer)):
            groups.setdefault(spelling, []).append(answer)
    ordered = sorted(groups, key=lambda spelling: (-len(groups[spelling]), spelling))
    classes: list[tuple[str, list[str]]] = []  # (founding spelling, members), in founding order
    for spelling in ordered:
        for founder, members in classes:
            if is_equivalent(spelling, founder, timeout_s) or is_equivalent(founder, spelling, timeout_s):
                members.extend(groups[spelling])
                break
        else:
            classes.append((spelling, list(groups[spelling])))
    if not classes:
        return Vote(label=None, p_hat=0.0, counts={})
    labelled = [(_most_common(members), len(members)) for _, members in classes]
    ranked = sorted(labelled, key=lambda item: -item[1])  # stable: earlier-founded classes win ties
    label, size = ranked[0]
    return Vote(label=label, p_hat=size / len(answers), counts=dict(ranked))
