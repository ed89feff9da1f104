"""Majority vote: equivalence classes, None handling, deterministic ties."""

import pytest

from rzero_rewards import Vote, majority_vote


def test_equivalent_spellings_form_one_class():
    vote = majority_vote(["1/2", "0.5", r"\frac{1}{2}", "3", "3", None])
    assert vote.label == "1/2"
    assert vote.p_hat == pytest.approx(3 / 6)
    assert vote.counts == {"1/2": 3, "3": 2}


def test_label_is_the_most_common_spelling_of_the_class():
    assert majority_vote(["0.5", "1/2", "1/2", "7"]).label == "1/2"


def test_none_counts_in_denominator_but_never_wins():
    vote = majority_vote([None, None, None, "4"])
    assert vote == Vote(label="4", p_hat=0.25, counts={"4": 1})


def test_all_none():
    assert majority_vote([None] * 10) == Vote(label=None, p_hat=0.0, counts={})


def test_ties_go_to_the_first_seen_class():
    assert majority_vote(["5", "6", "6", "5"]).label == "5"
    assert majority_vote(["6", "5", "5", "6"]).label == "6"


def test_ten_votes_give_tenths():
    answers = ["2"] * 7 + ["3"] * 2 + [None]
    assert majority_vote(answers).p_hat == pytest.approx(0.7)


def test_empty_input_is_an_error():
    with pytest.raises(ValueError, match="at least one answer"):
        majority_vote([])
