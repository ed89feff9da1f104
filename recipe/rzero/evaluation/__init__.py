"""Evaluation of Solver checkpoints on the paper's math and general-reasoning benchmarks and on code benchmarks."""
