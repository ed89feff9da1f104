"""Stage `generate-code`: a Challenger checkpoint proposes N code tasks, validated by the executor
(`TASK=code`; run in the infer environment).

    python scripts/generate_code.py --model CKPT --output iter_1/tasks.jsonl --num-tasks 8000
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import run_cli  # noqa: E402
from recipe.rzero.stages.generate_code import GenerateCodeConfig, run_generate_code  # noqa: E402

if __name__ == "__main__":
    run_cli(GenerateCodeConfig, run_generate_code, description=__doc__)
