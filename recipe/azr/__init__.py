"""Absolute Zero (AZR, arXiv 2505.03335) as a verl recipe: one model proposes and solves code tasks.

`trr`: the TRR++ advantage estimator; `buffers`: the task buffers; `selfplay`: one step's logic
(propose, validate, learnability, solve, rewards) around a caller's `generate`, without verl or a model;
`agent_loop`: `AZRAgentLoopManager`, the step inside verl's one generation call; `azr_ray_trainer`:
`RayAZRTrainer` (TRR++ groups, metrics, buffers in checkpoints); `config`: the `azr:` settings and the
checks before Ray starts; `main_azr`: the entry point; `step_record`: a step's record and metrics;
`report`: the run report; `seeding`: `rzero azr-seed`, the base model fills the buffers before
self-play. See README.md.
"""
