"""Print the path of the embedded SmolLM2-135M-Instruct checkpoint, converting it on first use.

    python scripts/prepare_model.py [--cache-dir DIR]

Run it in the train environment (it needs transformers < 5.11 and gguf).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.models import default_cache_dir, prepare_embedded_model  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="default: %(default)s")
    args = parser.parse_args(argv)
    print(prepare_embedded_model(args.cache_dir))


if __name__ == "__main__":
    main()
