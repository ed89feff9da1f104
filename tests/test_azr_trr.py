"""TRR++ (AZR Eq. 8): advantages normalised per (task type, role), checked against hand-computed values."""

import numpy as np
import pytest
import torch
from verl import DataProto
from verl.trainer.ppo.core_algos import get_adv_estimator_fn
from verl.trainer.ppo.ray_trainer import compute_advantage

from recipe.azr.trr import ESTIMATOR_NAME, compute_trr_advantage, group_label, register, task_relative_advantages

# One row per line: task type, role, response length (of 4 tokens), outcome reward r, TRR++ advantage.
# The advantage is (r - mean) / std over the rows of the same (task type, role), std with Bessel's
# correction (n - 1), worked out by hand:
#   ded/solve    r = 1, 0, -1          mean 0,     std sqrt(2/2) = 1          -> 1, 0, -1
#   ded/propose  r = -1, .5, .5, .5    mean .125,  std sqrt(1.6875/3) = .75   -> -1.5, .5, .5, .5
#   abd/propose  r = .75, .25          mean .5,    std sqrt(.125/1) = .35355  -> 1/sqrt(2), -1/sqrt(2)
#   ind/solve    r = 1, 1, 1           std 0: every reward is the baseline    -> 0, 0, 0
#   ind/propose  r = .5                a group of one is its own mean         -> 0
# ded/solve and ded/propose share a task type, ded/solve's r = 1 and ind/solve's r = 1 share a
# role: neither pair shares a baseline.
ROWS = [
    ("deduction", "solve", 4, 1.0, 1.0),
    ("deduction", "solve", 2, 0.0, 0.0),
    ("deduction", "solve", 3, -1.0, -1.0),
    ("deduction", "propose", 4, -1.0, -1.5),
    ("deduction", "propose", 1, 0.5, 0.5),
    ("deduction", "propose", 4, 0.5, 0.5),
    ("deduction", "propose", 2, 0.5, 0.5),
    ("abduction", "propose", 3, 0.75, 2**-0.5),
    ("abduction", "propose", 4, 0.25, -(2**-0.5)),
    ("induction", "solve", 4, 1.0, 0.0),
    ("induction", "solve", 1, 1.0, 0.0),
    ("induction", "solve", 2, 1.0, 0.0),
    ("induction", "propose", 3, 0.5, 0.0),
]
RESPONSE_LENGTH = 4


def make_inputs(rows=ROWS):
    """verl's layout: the outcome reward on the last response token, mask 1 on the response."""
    rewards = torch.zeros(len(rows), RESPONSE_LENGTH)
    mask = torch.zeros(len(rows), RESPONSE_LENGTH)
    for i, (_, _, length, reward, _) in enumerate(rows):
        mask[i, :length] = 1
        rewards[i, length - 1] = reward
    task_types = [row[0] for row in rows]
    roles = [row[1] for row in rows]
    return rewards, mask, task_types, roles


def expected_advantages(rows=ROWS):
    return torch.tensor([row[4] for row in rows]).unsqueeze(-1) * make_inputs(rows)[1]


def test_hand_computed_batch():
    rewards, mask, task_types, roles = make_inputs()
    advantages = task_relative_advantages(rewards, mask, task_types, roles)
    assert torch.allclose(advantages, expected_advantages(), atol=1e-5)


def test_padding_gets_no_advantage():
    rewards, mask, task_types, roles = make_inputs()
    advantages = task_relative_advantages(rewards, mask, task_types, roles)
    assert torch.all(advantages[mask == 0] == 0)
    assert advantages[4].tolist() == pytest.approx([0.5, 0.0, 0.0, 0.0], abs=1e-5)  # a 1-token response


def test_reward_is_the_sum_over_tokens():
    """A row's outcome reward is the sum of its token rewards wherever they sit in the response."""
    rewards, mask, task_types, roles = make_inputs()
    spread = rewards.clone()
    spread[0] = torch.tensor([0.25, 0.25, 0.25, 0.25])  # ded/solve row 0: still r = 1
    assert torch.allclose(task_relative_advantages(spread, mask, task_types, roles), expected_advantages(), atol=1e-5)


def test_row_order_does_not_matter():
    """verl's batch balancing reorders rows; each row keeps its advantage."""
    order = np.random.default_rng(0).permutation(len(ROWS))
    rows = [ROWS[i] for i in order]
    rewards, mask, task_types, roles = make_inputs(rows)
    advantages = task_relative_advantages(rewards, mask, task_types, roles)
    assert torch.allclose(advantages, expected_advantages(rows), atol=1e-5)


def test_one_group_is_plain_reinforce_plus_plus_normalisation():
    """With a single (task type, role) the baseline is the batch's: (r - mean) / std."""
    scores = torch.tensor([2.0, 4.0, 9.0])
    advantages = task_relative_advantages(scores.unsqueeze(-1), torch.ones(3, 1), ["abduction"] * 3, ["solve"] * 3)
    assert torch.allclose(advantages.squeeze(-1), (scores - scores.mean()) / scores.std(), atol=1e-5)


@pytest.mark.parametrize(
    ("rewards", "mask", "task_types", "roles", "message"),
    [
        (torch.zeros(2, 3), torch.ones(2, 4), ["deduction"] * 2, ["solve"] * 2, "response_length"),
        (torch.zeros(3), torch.ones(3), ["deduction"] * 3, ["solve"] * 3, "response_length"),
        (torch.zeros(2, 3), torch.ones(2, 3), ["deduction"], ["solve"] * 2, "one task_type and one role per row"),
    ],
)
def test_rejects_mismatched_inputs(rewards, mask, task_types, roles, message):
    with pytest.raises(ValueError, match=message):
        task_relative_advantages(rewards, mask, task_types, roles)


def test_registered_in_verls_registry():
    assert register() is compute_trr_advantage
    assert register() is compute_trr_advantage  # idempotent
    assert get_adv_estimator_fn(ESTIMATOR_NAME) is compute_trr_advantage


def test_verls_compute_advantage_groups_by_uid():
    """verl's own `compute_advantage` (the trainer's call) reaches TRR++ with each row's group in `uid`."""
    register()
    rewards, mask, task_types, roles = make_inputs()
    uids = np.array([group_label(t, r) for t, r in zip(task_types, roles)], dtype=object)
    batch = DataProto.from_dict(
        tensors={"token_level_rewards": rewards, "response_mask": mask}, non_tensors={"uid": uids}
    )
    batch = compute_advantage(batch, adv_estimator=ESTIMATOR_NAME)
    assert torch.allclose(batch.batch["advantages"], expected_advantages(), atol=1e-5)


def test_verl_estimator_rejects_plain_uids():
    """verl's default uids (one uuid per prompt) carry no group: say what to set instead of guessing."""
    rewards, mask, _, _ = make_inputs()
    with pytest.raises(ValueError, match="group_label"):
        compute_trr_advantage(rewards, mask, index=np.array(["4f1c9a"] * len(ROWS), dtype=object))
