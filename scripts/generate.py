"""Stage `generate`: a Challenger checkpoint writes N questions (run in the infer environment).

    python scripts/generate.py --model CKPT --output iter_1/questions.jsonl --num-questions 8000
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import run_cli  # noqa: E402
from recipe.rzero.stages.generate import GenerateConfig, run_generate  # noqa: E402

if __name__ == "__main__":
    run_cli(GenerateConfig, run_generate, description=__doc__)
