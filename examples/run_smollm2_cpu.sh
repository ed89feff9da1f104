#!/usr/bin/env bash
# The main job on a CPU machine. It grows with the project: today it builds the environments and
# benchmarks the reward library against its reference implementations; the full R-Zero iteration
# with the embedded SmolLM2 replaces this as the loop lands (see README "Status").
set -xeuo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "export $(bash "$root/scripts/setup_envs.sh" | grep '^RZERO_TRAIN_PYTHON=')"
cd "$root"
"$RZERO_TRAIN_PYTHON" -m benchmarks.bench_rewards --quick
