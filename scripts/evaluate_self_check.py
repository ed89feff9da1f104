"""Grade every benchmark item's own reference answer/solution as the response (no model needed).

    python scripts/evaluate_self_check.py --data-dir ../shared/data/benchmarks --output-dir evals/self_check

Fails (exit 1), listing the items, if a math benchmark scores below 99% or a code benchmark (CRUXEval,
HumanEval: run in the sandbox) below 100%: an extraction, grading or sandbox bug.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import run_cli  # noqa: E402
from recipe.rzero.evaluation.runner import SelfCheckConfig, run_self_check  # noqa: E402

if __name__ == "__main__":
    run_cli(SelfCheckConfig, run_self_check, description=__doc__)
