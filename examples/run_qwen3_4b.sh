#!/usr/bin/env bash
# R-Zero on Qwen3-4B-Base, one node of 8 GPUs, the paper's settings (3 iterations):
# Challenger GRPO on GPUs 0-3 while GPUs 4-7 serve the Solver (4 vLLM replicas),
# then question generation, labelling (8 vLLM engines) and Solver GRPO on all 8 GPUs. The base model and every
# Solver are evaluated on the paper's ten benchmarks, and each iteration's pseudo-labels are checked
# on a gold slice of MATH-500; `rzero report` puts the scores beside the paper's.
#   bash examples/run_qwen3_4b.sh [--dry-run] [--no-eval]
#   TASK=code bash examples/run_qwen3_4b.sh: code tasks verified by the executor instead (issue 13)
# Multi-node: set NNODES and start Ray across the nodes first (verl's trainer.nnodes).
set -xeuo pipefail

# Experiment
export BASE_MODEL=${BASE_MODEL:-Qwen/Qwen3-4B-Base}
export RUN_DIR=${RUN_DIR:-$PWD/runs/qwen3_4b}
export ITERATIONS=${ITERATIONS:-3}
export PYTHON=${PYTHON:-python3}

# Hardware
nnodes=${NNODES:-1}
export CHALLENGER_GPUS=${CHALLENGER_GPUS:-0,1,2,3}
export SOLVER_GPUS=${SOLVER_GPUS:-4,5,6,7}
export TRAIN_GPUS=${TRAIN_GPUS:-0,1,2,3,4,5,6,7}
challenger_gpus_per_node=$(($(tr -cd , <<<"$CHALLENGER_GPUS" | wc -c) + 1))
solver_gpus_per_node=$(($(tr -cd , <<<"$TRAIN_GPUS" | wc -c) + 1))
serving_replicas=$(($(tr -cd , <<<"$SOLVER_GPUS" | wc -c) + 1))

# Model-size dependent (run_qwen3_8b.sh sets these)
rollout_tp=${ROLLOUT_TP:-1}
offload=${FSDP_OFFLOAD:-false}

# Lengths (the paper: 4096-token responses) and per-GPU token budgets
max_prompt_length=1024
max_response_length=4096
tokens_per_gpu=$(((max_prompt_length + max_response_length) * 4))

# generate, label and evaluate run one vLLM engine per STAGE_TP GPUs of TRAIN_GPUS, sharing the chunks
stage_tp=${STAGE_TP:-1}           # one engine per GPU: Qwen3-4B/8B fit on one
stage_engines="--device cuda --gpu-ids ${TRAIN_GPUS//,/ } --tensor-parallel-size $stage_tp \
--replicas $((solver_gpus_per_node / stage_tp))"

# Stage budgets: the defaults of generate/label are the paper's N = 8000 (stages/generate.py), m = 10 (inference_defaults.py),
# and of the trainings its 5 Challenger and 15 Solver steps (recipe/rzero/config)
export SERVE_ARGS="--replicas $serving_replicas --max-model-len $((max_prompt_length + max_response_length))"
export GENERATE_ARGS="$stage_engines --max-model-len $((max_prompt_length + max_response_length))"
export LABEL_ARGS="$stage_engines --max-model-len $((max_prompt_length + max_response_length))"

# Evaluation (the paper's protocol: greedy, mean@32 at T = 0.6 for AIME and AMC; `--no-eval` skips it)
data_dir=${DATA_DIR:-}            # local benchmark files (shared/data/benchmarks); default: the Hugging Face ids
benchmarks="math500 gsm8k amc23 minerva olympiadbench aime24 aime25 mmlu_pro supergpqa bbeh"
gold_items=${GOLD_ITEMS:-200}     # MATH-500 questions labelled each iteration: pseudo-label accuracy
gold_chunk=$(((gold_items + solver_gpus_per_node - 1) / solver_gpus_per_node))  # a chunk per engine
export GOLD_LABEL_ARGS="--benchmark math500 --limit $gold_items --chunk-size $gold_chunk \
${data_dir:+--data-dir $data_dir} $LABEL_ARGS"
if [[ "${TASK:-math}" == code ]]; then  # the executor-verified loop (issue 13): code benchmarks, no gold labels
  benchmarks="cruxeval_o cruxeval_i humaneval"
  GOLD_LABEL_ARGS=""
fi
export EVAL_ARGS="$stage_engines --benchmarks $benchmarks --max-tokens $max_response_length \
${data_dir:+--data-dir $data_dir}"

# verl settings shared by both roles (one per line)
common="
data.max_prompt_length=$max_prompt_length
data.max_response_length=$max_response_length
actor_rollout_ref.model.enable_gradient_checkpointing=true
actor_rollout_ref.model.use_remove_padding=true
actor_rollout_ref.actor.use_dynamic_bsz=true
actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$tokens_per_gpu
actor_rollout_ref.actor.fsdp_config.param_offload=$offload
actor_rollout_ref.actor.fsdp_config.optimizer_offload=$offload
actor_rollout_ref.ref.log_prob_use_dynamic_bsz=true
actor_rollout_ref.ref.log_prob_max_token_len_per_gpu=$tokens_per_gpu
actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=true
actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=$tokens_per_gpu
actor_rollout_ref.rollout.tensor_model_parallel_size=$rollout_tp
actor_rollout_ref.rollout.gpu_memory_utilization=0.6
trainer.nnodes=$nnodes
trainer.logger=[console,tensorboard]
"
export CHALLENGER_OVERRIDES="$common
trainer.n_gpus_per_node=$challenger_gpus_per_node
"
export SOLVER_OVERRIDES="$common
trainer.n_gpus_per_node=$solver_gpus_per_node
"

exec bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/rzero_loop.sh" "$@"
