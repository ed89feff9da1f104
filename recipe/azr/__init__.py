"""Absolute Zero (AZR, arXiv 2505.03335) as a verl recipe: one model proposes and solves code tasks."""
