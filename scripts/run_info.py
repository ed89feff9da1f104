"""Write a run's `run.json` (settings, package versions, git revision, host); used by rzero_loop.sh.

    python scripts/run_info.py --output RUN_DIR/run.json --python train=PY --python infer=PY \
        --setting ENGINE=trl --setting ITERATIONS=3 ...
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.run_info import write_run_info  # noqa: E402


def _pair(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True, help="the run.json to write")
    parser.add_argument("--python", type=_pair, action="append", default=[], help="NAME=interpreter of an environment")
    parser.add_argument("--setting", type=_pair, action="append", default=[], help="KEY=VALUE of the run")
    args = parser.parse_args()
    write_run_info(args.output, dict(args.setting), dict(args.python), Path(__file__).resolve().parents[1])
    print(args.output)
