"""Evaluate a checkpoint on the math / MMLU-Pro / SuperGPQA / BBEH / code benchmarks (infer environment).

    python scripts/evaluate.py --model CKPT --output-dir evals/base [--benchmarks math500 gsm8k]
        [--data-dir ../shared/data/benchmarks] [--limit N] [--max-tokens 4096]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import run_cli  # noqa: E402
from recipe.rzero.evaluation.runner import EvaluateConfig, run_evaluate  # noqa: E402

if __name__ == "__main__":
    run_cli(EvaluateConfig, run_evaluate, description=__doc__)
