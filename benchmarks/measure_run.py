"""Run a command and report its wall time and peak memory (summed over its whole process tree).

    python -m benchmarks.measure_run -- bash examples/run_smollm2_cpu.sh

Memory is sampled every `--interval` seconds as the sum of the proportional set size (PSS: shared
pages split between the processes that map them) of the command and all its descendants, so
concurrent processes (trainer + solver service) count together and shared libraries only once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psutil


def tree_pss(root: psutil.Process) -> int:
    """PSS bytes of `root` and every descendant still alive."""
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between memory samples")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    started = time.monotonic()
    child = subprocess.Popen(command)
    root = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_pss(root))
        time.sleep(args.interval)
    seconds = time.monotonic() - started
    print(f"[measure_run] exit {child.returncode}; wall {seconds / 60:.1f} min; peak PSS {peak / 2**30:.2f} GiB",
          file=sys.stderr)  # fmt: skip
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
