#!/usr/bin/env bash
# R-Zero on Qwen3-8B-Base, one node of 8 GPUs: the 4B script's settings, with the rollout on
# 2 GPUs per engine and FSDP offloading parameters and optimizer state to fit the larger model.
#   bash examples/run_qwen3_8b.sh [--dry-run] [--no-eval]
set -xeuo pipefail

export BASE_MODEL=${BASE_MODEL:-Qwen/Qwen3-8B-Base}
export RUN_DIR=${RUN_DIR:-$PWD/runs/qwen3_8b}
export ROLLOUT_TP=${ROLLOUT_TP:-2}
export FSDP_OFFLOAD=${FSDP_OFFLOAD:-true}

exec bash "$(dirname "${BASH_SOURCE[0]}")/run_qwen3_4b.sh" "$@"
