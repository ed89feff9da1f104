"""R-Zero as a verl recipe: Challenger and Solver GRPO, the solver service and the data stages."""
