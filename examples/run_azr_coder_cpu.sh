#!/usr/bin/env bash
# Absolute Zero on a CPU machine: self-play of the embedded Qwen2.5-Coder-0.5B-Instruct with verl's own
# trainer on this CPU (+device=cpu, recipe/rzero/cpu): every step proposes deduction, abduction and
# induction tasks, validates them in the sandbox, estimates their learnability from the model's own
# answers, solves a batch of each type, and takes one TRR++ update; the buffers are checkpointed each
# step. CRUXEval-O/I, HumanEval and GSM8K slices before and after (vLLM's CPU build); `rzero report`.
#   bash examples/run_azr_coder_cpu.sh [--dry-run] [--no-eval]
# Budgets are smoke-scale (B = 2 per type and role, short responses, a few steps; the paper: B = 64,
# 500 steps, 8096-token responses, run_azr_qwen2.5_coder_7b.sh). Two departures let a 0.5B instruct
# model produce valid tasks at all: a one-shot format example in deduction and abduction chats
# (azr.format_example) and K = 2 references (shorter prompts). Re-running continues an interrupted run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RUN_DIR=${RUN_DIR:-$root/runs/azr_coder_cpu}
data_dir=${DATA_DIR:-$root/../shared/data/benchmarks}

eval "export $(bash "$root/scripts/setup_envs.sh" | tr '\n' ' ')"
export PYTHON=$RZERO_TRAIN_PYTHON INFER_PYTHON=$RZERO_INFER_PYTHON TRAIN_GPUS=""
export BASE_MODEL=${BASE_MODEL:-$(cd "$root" && "$PYTHON" -m recipe.rzero prepare-model --model qwen2.5-coder-0.5b)}

# Budgets (override any of them from the environment)
steps=${STEPS:-2}  # 2 steps: 31-42 min on a fresh machine with bf16 instructions, peak 15.8 GiB (benchmarks/README.md)
batch=${BATCH:-2}                 # B: proposals and solver tasks per task type per step
samples=${SAMPLES:-4}             # n: learnability samples per valid proposal
response_length=${RESPONSE_LENGTH:-256}
eval_items=${EVAL_ITEMS:-16}

export EVAL_ARGS="--benchmarks cruxeval_o cruxeval_i humaneval gsm8k --data-dir $data_dir --limit $eval_items \
--max-tokens $response_length --max-model-len 2048"
# The trainer's mmap threshold at 64 KiB: the memory fix measured for this model (the device config's
# 4 MiB is faster for small models; benchmarks/README.md)
export OVERRIDES="
+device=cpu
trainer.total_training_steps=$steps
azr.batch_size=$batch
data.train_batch_size=$((2 * batch * 3))
azr.references=2
azr.learnability_samples=$samples
azr.induction_inputs=6
azr.format_example=true
data.max_prompt_length=1280
data.max_response_length=$response_length
actor_rollout_ref.model.enable_gradient_checkpointing=true
trainer.save_freq=1
trainer.max_actor_ckpt_to_keep=1
reward.num_workers=0
ray_kwargs.ray_init.runtime_env.env_vars.RZERO_TRAINER_MMAP_THRESHOLD='65536'
"

exec bash "$root/scripts/azr_loop.sh" "$@"
