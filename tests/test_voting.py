"""Majority vote: equivalence classes, None handling, ties, and independence of the answers' order."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rzero_rewards import Vote, is_equivalent, majority_vote


def test_equivalent_spellings_form_one_class():
    vote = majority_vote(["1/2", "0.5", r"\frac{1}{2}", "3", "3", None])
    assert vote.label == "0.5"  # all spelled once: the alphabetically first
    assert vote.p_hat == pytest.approx(3 / 6)
    assert vote.counts == {"0.5": 3, "3": 2}


def test_label_is_the_most_common_spelling_of_the_class():
    assert majority_vote(["0.5", "1/2", "1/2", "7"]).label == "1/2"


def test_none_counts_in_denominator_but_never_wins():
    vote = majority_vote([None, None, None, "4"])
    assert vote == Vote(label="4", p_hat=0.25, counts={"4": 1})


def test_all_none():
    assert majority_vote([None] * 10) == Vote(label=None, p_hat=0.0, counts={})


def test_ties_go_to_the_alphabetically_first_spelling_whatever_the_order():
    assert majority_vote(["5", "6", "6", "5"]).label == "5"
    assert majority_vote(["6", "5", "5", "6"]).label == "5"
    assert majority_vote(["0.5", "1/2"]).label == "0.5"  # the same class: its alphabetically first spelling


# Issue 12, kind 3: (answers, p̂, label) that must hold in every order of the answers.
ORDER_CASES = [
    (["2a + b = 6", "6", "6", "9"], 0.75, "6"),  # verify("6", "2a + b = 6") holds, the reverse does not
    (["x = 3", "3", "4", None], 0.5, "3"),
    (["y = 2x + 1", "2x + 1", "2x+1", "1"], 0.75, "2x + 1"),
    ([r"\$18", "18", "18", r"\$18", "20"], 0.8, "18"),  # kind 1: one answer, one class
    (["35\\%", "35", "0.35", None], 0.5, "35"),
    ([r"\frac{1}{5^{30}}", r"\frac{1}{5^{31}}", r"5^{-30}", "0"], 0.5, r"5^{-30}"),  # kind 5
    (["-4, 6", "6, -4", "-4", "6"], 0.5, "-4, 6"),
    (["1", "2", "3", "4"], 0.25, "1"),
]


@pytest.mark.parametrize(("answers", "p_hat", "label"), ORDER_CASES)
def test_the_vote_does_not_depend_on_the_order_of_the_answers(answers, p_hat, label):
    orders = [answers, answers[::-1]] + [random.Random(seed).sample(answers, len(answers)) for seed in range(4)]
    for order in orders:
        vote = majority_vote(order)
        assert vote.p_hat == pytest.approx(p_hat), order
        assert vote.label == label, order


SPELLINGS = [
    "6", "06", "6.0", r"\$6", "x = 6", "2a + b = 6", r"\frac{12}{2}", "9", "x = 9", r"\sqrt{81}",
    "1/2", "0.5", r"\frac{1}{2}", "50\\%", "y = 1/2", r"\frac{1}{5^{30}}", r"\frac{1}{5^{31}}",
    "-4, 6", "6, -4", r"\{-4, 6\}", "x + 1", "1 + x", "a = x + 1", None,
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_property_the_same_multiset_gives_the_same_vote(answers, rng):
    shuffled = rng.sample(answers, len(answers))
    first, second = majority_vote(answers), majority_vote(shuffled)
    assert first.p_hat == second.p_hat
    assert first.label == second.label
    assert first.counts == second.counts
    if first.label is not None:  # the same class: the labels agree in both directions too
        assert is_equivalent(first.label, second.label) or is_equivalent(second.label, first.label)


def test_ten_votes_give_tenths():
    answers = ["2"] * 7 + ["3"] * 2 + [None]
    assert majority_vote(answers).p_hat == pytest.approx(0.7)


def test_empty_input_is_an_error():
    with pytest.raises(ValueError, match="at least one answer"):
        majority_vote([])
