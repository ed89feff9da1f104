"""Write the Challenger's training prompts: the fixed question-setting chat, one row per prompt.

    python scripts/challenger_prompts.py --output iter_1/challenger_prompts.parquet --rows 640
    python scripts/challenger_prompts.py --output iter_1/challenger_prompts.parquet \\
        --config-name rzero_challenger trainer.total_training_steps=5 [OVERRIDE ...]

Rows = data.train_batch_size × trainer.total_training_steps (e.g. 128 × 5 = 640): given with --rows,
or read from the config the training composes (--config-name and the training's own Hydra overrides).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.prompts import FORMAT_EXAMPLE_HELP  # noqa: E402
from recipe.rzero.rl_data import challenger_prompt_count, challenger_prompt_rows, write_rl_parquet  # noqa: E402

CONFIG_DIR = Path(__file__).resolve().parents[1] / "recipe" / "rzero" / "config"


def composed_rows(config_name: str, overrides: list[str]) -> int:
    """The prompt rows of a training composed from `config_name` with `overrides` (as main_rzero/main_trl do)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return challenger_prompt_count(compose(config_name=config_name, overrides=overrides))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True, help="parquet file to write")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--rows", type=int, help="number of prompts")
    source.add_argument("--config-name", help="the training's config (rzero_challenger): rows = batch × steps")
    parser.add_argument("--format-example", action="store_true", help=FORMAT_EXAMPLE_HELP)
    parser.add_argument("overrides", nargs="*", help="the training's Hydra overrides (with --config-name)")
    args = parser.parse_args(argv)
    if args.overrides and args.config_name is None:
        parser.error("Hydra overrides need --config-name")
    rows = args.rows if args.config_name is None else composed_rows(args.config_name, args.overrides)
    if rows < 1:
        parser.error(f"--rows must be positive, got {rows}" if args.config_name is None else f"{rows} rows composed")
    write_rl_parquet(args.output, challenger_prompt_rows(rows, args.format_example))
    print(args.output)


if __name__ == "__main__":
    main()
