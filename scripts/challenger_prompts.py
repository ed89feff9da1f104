"""Write the Challenger's training prompts: the fixed question-setting chat, one row per prompt.

    python scripts/challenger_prompts.py --output iter_1/challenger_prompts.parquet --rows 640

Rows = data.train_batch_size × trainer.total_training_steps (e.g. 128 × 5 = 640).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.prompts import FORMAT_EXAMPLE_HELP  # noqa: E402
from recipe.rzero.rl_data import challenger_prompt_rows, write_rl_parquet  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True, help="parquet file to write")
    parser.add_argument("--rows", type=int, required=True, help="number of prompts")
    parser.add_argument("--format-example", action="store_true", help=FORMAT_EXAMPLE_HELP)
    args = parser.parse_args()
    if args.rows < 1:
        parser.error(f"--rows must be positive, got {args.rows}")
    write_rl_parquet(args.output, challenger_prompt_rows(args.rows, args.format_example))
    print(args.output)
