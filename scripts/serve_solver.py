"""Serve a Solver checkpoint with vLLM until interrupted; prints the URL(s) and log path(s).

    python scripts/serve_solver.py --model CKPT [--replicas 4 --device cuda] [--log-dir logs]
"""

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipe.rzero.cli import parse_config  # noqa: E402
from recipe.rzero.solver_service import SolverService, SolverServiceConfig  # noqa: E402

if __name__ == "__main__":
    # Block the stop signals so that sigwait receives them: otherwise SIGTERM's default action ends
    # this process at once and the vLLM servers (in their own sessions) would outlive it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    with SolverService(parse_config(SolverServiceConfig, description=__doc__)) as service:
        for url, log in zip(service.urls, service.log_paths):
            print(f"{url}  (log: {log})", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
