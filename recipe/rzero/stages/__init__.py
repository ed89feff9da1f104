"""The inference stages of an R-Zero iteration: `generate` questions, `label` them by majority vote."""
