"""Stage `label-code`: the Solver answers each code task m times, the executor verifies each answer,
tasks with the verified success rate in the band become the Solver's training set (`TASK=code`;
infer environment).

    python scripts/label_code.py --model SOLVER --tasks iter_1/tasks.jsonl --output iter_1/solver_train.parquet
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import run_cli  # noqa: E402
from recipe.rzero.stages.label_code import LabelCodeConfig, run_label_code  # noqa: E402

if __name__ == "__main__":
    run_cli(LabelCodeConfig, run_label_code, description=__doc__)
