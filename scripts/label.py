"""Stage `label`: Solver majority-vote pseudo-labels and the in-band filter (infer environment).

    python scripts/label.py --model SOLVER --questions iter_1/questions.jsonl --output iter_1/solver_train.parquet
    python scripts/label.py --model SOLVER --benchmark gsm8k --data-dir ../shared/data/benchmarks --gold ...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import run_cli  # noqa: E402
from recipe.rzero.stages.label import LabelConfig, run_label  # noqa: E402

if __name__ == "__main__":
    run_cli(LabelConfig, run_label, description=__doc__)
