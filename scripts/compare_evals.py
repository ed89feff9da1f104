"""Compare evaluation directories (base, iter 1..3): the paper-style Markdown table and a PNG chart.

    python scripts/compare_evals.py evals/base evals/iter_1 evals/iter_3 --output evals/comparison
    python scripts/compare_evals.py runs/qwen3_4b/eval/iter_* --paper Qwen3-4B-Base --output cmp  # beside the paper
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.evaluation.compare import compare_runs  # noqa: E402
from recipe.rzero.evaluation.paper import REPORTED  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="evaluation output directories")
    parser.add_argument("--output", type=Path, required=True, help="path stem for .md and .png")
    parser.add_argument("--labels", nargs="*", help="one label per run (default: directory names)")
    parser.add_argument("--paper", choices=list(REPORTED), help="add the paper's reported scores for this base model")
    args = parser.parse_args()
    try:
        print(compare_runs(args.runs, args.output, args.labels, args.paper))
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None
