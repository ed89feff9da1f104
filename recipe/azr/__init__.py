"""Absolute Zero (AZR, arXiv 2505.03335) as a verl recipe: one model proposes and solves code tasks.

`trr`: the TRR++ advantage estimator; `buffers`: the task buffers; `selfplay`: one step's logic
(propose, validate, learnability, solve, rewards) around a caller's `generate`, without verl or a model.
"""
