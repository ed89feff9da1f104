"""Write the report of an R-Zero run: RUN_DIR/report/report.md plus PNG plots (train environment).

    python scripts/report.py RUN_DIR [--no-weights]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.report import write_report  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="the loop's RUN_DIR")
    parser.add_argument("--no-weights", action="store_true", help="skip comparing model weights between iterations")
    args = parser.parse_args()
    try:
        report = write_report(args.run_dir, weights=not args.no_weights)
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"report: {error}")
    print(report.read_text())
