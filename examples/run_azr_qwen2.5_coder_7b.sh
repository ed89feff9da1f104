#!/usr/bin/env bash
# Absolute Zero on Qwen2.5-Coder-7B, the paper's settings (recipe/azr/config/azr.yaml: Table 3) on
# the public code's layout: one node of 4 x 80 GB GPUs, vLLM rollout with tensor parallel 2, Ulysses
# sequence parallel 4 for the 14k-token sequences. The base and the self-played model are evaluated
# on CRUXEval-O/I, HumanEval and math benchmarks; `rzero report` shows the per-step self-play curves.
#   bash examples/run_azr_qwen2.5_coder_7b.sh [--dry-run] [--no-eval]
# Re-running continues an interrupted run from its last checkpoint (every 10 steps, buffers included).
set -xeuo pipefail

# Experiment
export BASE_MODEL=${BASE_MODEL:-Qwen/Qwen2.5-Coder-7B}
export RUN_DIR=${RUN_DIR:-$PWD/runs/azr_coder7b}
export PYTHON=${PYTHON:-python3}

# Hardware
export TRAIN_GPUS=${TRAIN_GPUS:-0,1,2,3}
gpus=$(($(tr -cd , <<<"$TRAIN_GPUS" | wc -c) + 1))
rollout_tp=${ROLLOUT_TP:-2}
sequence_parallel=${SEQUENCE_PARALLEL:-4}
# Per-GPU token budget: one longest sequence (6144 + 8096 tokens, azr.yaml) per micro-batch and Ulysses rank share.
tokens_per_gpu=$(((6144 + 8096) * 2))

# Evaluation (greedy for every benchmark, §4.1: no sampled benchmarks; `--no-eval` skips it)
data_dir=${DATA_DIR:-}            # local benchmark files (shared/data/benchmarks); default: the Hugging Face ids
export EVAL_ARGS="--device cuda --gpu-ids ${TRAIN_GPUS//,/ } --replicas $gpus \
--benchmarks cruxeval_o cruxeval_i humaneval math500 gsm8k aime24 amc23 minerva olympiadbench \
--sampled-benchmarks --max-tokens 8096 ${data_dir:+--data-dir $data_dir}"

# Seeding (§3.3.1): the base model fills each buffer with B x S = 64 x 4 = 256 valid tasks first
export SEED_ARGS="--device cuda --gpu-ids ${TRAIN_GPUS//,/ } --size 256 --batch-size 64 --max-model-len 14240"

# verl settings (one per line)
export OVERRIDES="
trainer.n_gpus_per_node=$gpus
actor_rollout_ref.model.enable_gradient_checkpointing=true
actor_rollout_ref.model.use_remove_padding=true
actor_rollout_ref.actor.ulysses_sequence_parallel_size=$sequence_parallel
actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$tokens_per_gpu
actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=$tokens_per_gpu
actor_rollout_ref.rollout.tensor_model_parallel_size=$rollout_tp
actor_rollout_ref.rollout.gpu_memory_utilization=0.6
"

exec bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/azr_loop.sh" "$@"
