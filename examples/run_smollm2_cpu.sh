#!/usr/bin/env bash
# The main job on a CPU machine: one full R-Zero iteration with the embedded SmolLM2-135M-Instruct
# (the `trl` engine; vLLM's CPU build for the solver service, generation, labelling, evaluation).
# ENGINE=verl trains both roles with verl's own trainer on this CPU instead (+device=cpu, merged by
# main_rzero); it is not the default because verl 0.9.1's merger writes bf16, which rounds away this
# fp32 model's few lr-1e-6 updates (benchmarks/README.md).
# TASK=code runs the executor-verified loop (issue 13) with the embedded Qwen2.5-Coder-0.5B-Instruct:
# code tasks proposed, validated in the sandbox and answered with verified rewards, CRUXEval-O before
# and after (RUN_DIR runs/code_cpu).
#   serve the base Solver -> Challenger GRPO (TRL) -> generate questions -> label (majority vote, p-hat band)
#   -> Solver GRPO (TRL) on the kept questions -> evaluate base vs iteration 1 -> report
# Budgets are small (a few GRPO steps, tens of questions, m = 4-6) to finish in about 20-30 min on
# 2 cores. Three documented departures from the paper let a 135M model produce any reward at all
# (without them it almost never writes a <question> block or a \boxed{} answer and every reward is 0):
#   --format-example / *format_example: prompts carry one worked example of the output format;
#   --last-number-fallback / *last_number_fallback: an answer without \boxed{} is read as its last number;
#   the Challenger samples at temperature 0.7 (training and generation; the paper: 1.0): at 1.0 about 1 in
#   20 of its outputs is well-formed, so most GRPO steps of this short run would have no signal at all.
# The paper's settings are in run_qwen3_4b.sh.
#   bash examples/run_smollm2_cpu.sh [--dry-run] [--base-challenger] [--no-repetition-penalty] [--no-filter]
# Re-running continues an interrupted run; RUN_DIR=... picks another run directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TASK=${TASK:-math}  # code: the executor-verified loop (issue 13) with the embedded coder model
embedded_model=smollm2
[[ "$TASK" == code ]] && embedded_model=qwen2.5-coder-0.5b
export RUN_DIR=${RUN_DIR:-$root/runs/${TASK/math/smollm2}_cpu}
data_dir=${DATA_DIR:-$root/../shared/data/benchmarks}

eval "export $(bash "$root/scripts/setup_envs.sh" | tr '\n' ' ')"
export ENGINE=${ENGINE:-trl} ITERATIONS=${ITERATIONS:-1}  # verl: verl's own trainer on CPU (+device=cpu)
export PYTHON=$RZERO_TRAIN_PYTHON INFER_PYTHON=$RZERO_INFER_PYTHON
export BASE_MODEL=${BASE_MODEL:-$(cd "$root" && "$PYTHON" -m recipe.rzero prepare-model --model $embedded_model)}

# Budgets (override any of them from the environment for a shorter or longer run). TASK=code: one step
# of each role on 2 prompts, 32 proposals: a GRPO step of the 0.5B coder on 16 completions of up to 384
# tokens takes over 15 minutes on 2 cores (transformers' generate), so this is a smoke-scale run.
code=false
[[ "$TASK" == code ]] && code=true
challenger_steps=${CHALLENGER_STEPS:-$($code && echo 1 || echo 3)}
solver_steps=${SOLVER_STEPS:-$($code && echo 1 || echo 2)}
prompts_per_step=${PROMPTS_PER_STEP:-$($code && echo 2 || echo 4)}
questions=${QUESTIONS:-$($code && echo 32 || echo 48)}
samples=${SAMPLES:-6}             # m: Solver answers per question when labelling
reward_samples=${REWARD_SAMPLES:-4}  # m inside the Challenger's reward
gold_items=${GOLD_ITEMS:-16}      # GSM8K questions labelled each iteration for the pseudo-label accuracy
eval_items=${EVAL_ITEMS:-32}
challenger_temperature=${CHALLENGER_TEMPERATURE:-0.7}  # the paper's 1.0 gives this model almost no signal

context="--max-model-len 2048"
export PROMPT_ARGS="--format-example"
# The Solver service's share of memory (weights and KV cache): 0.1 = 2.4 GiB leaves room beside the trainer;
# the coder model's weights alone take about that much (at 0.1 vLLM refuses to start: no room for a KV cache).
serve_share=0.1
$code && serve_share=0.2
export SERVE_ARGS="$context --gpu-memory-utilization $serve_share"
if $code; then  # proposals (a program and an input), verified answers, CRUXEval-O
  challenger_length=384 solver_length=256  # the lengths the coder's format-following was measured at
  count=--num-tasks answer_reading=""
  export GOLD_LABEL_ARGS=""
  export EVAL_ARGS="--benchmarks cruxeval_o --data-dir $data_dir --limit $eval_items --max-tokens 256 $context"
  challenger_reward="reward.custom_reward_function.reward_kwargs.solver_format_example=true"
  solver_reward=""
else
  challenger_length=128 solver_length=192
  count=--num-questions answer_reading="--last-number-fallback "
  export EVAL_ARGS="--benchmarks gsm8k math500 --data-dir $data_dir --limit $eval_items --max-tokens 256 --format-example --last-number-fallback $context"
  challenger_reward="reward.custom_reward_function.reward_kwargs.solver_format_example=true
reward.custom_reward_function.reward_kwargs.solver_last_number_fallback=true"
  solver_reward="reward.custom_reward_function.reward_kwargs.last_number_fallback=true"
fi
export GENERATE_ARGS="$count $questions --max-tokens $challenger_length --temperature $challenger_temperature --format-example $context"
export LABEL_ARGS="--samples $samples --max-tokens $solver_length --format-example $answer_reading$context"
$code || export GOLD_LABEL_ARGS="--benchmark gsm8k --data-dir $data_dir --limit $gold_items $LABEL_ARGS"

# Training settings shared by both roles, one per line (verl's names; recipe/rzero/trl_engine.py maps them for TRL)
common="
data.train_batch_size=$prompts_per_step
actor_rollout_ref.rollout.n=4
actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8
actor_rollout_ref.model.enable_gradient_checkpointing=true
trainer.save_freq=1
"
if [[ "$ENGINE" == verl ]]; then  # verl's trainer on this CPU (recipe/rzero/config/device/cpu.yaml)
  common+="
+device=cpu
actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=8
actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=8
trainer.max_actor_ckpt_to_keep=1
"
fi
export CHALLENGER_OVERRIDES="$common
trainer.total_training_steps=$challenger_steps
data.max_response_length=$challenger_length
actor_rollout_ref.rollout.temperature=$challenger_temperature
reward.custom_reward_function.reward_kwargs.samples=$reward_samples
reward.custom_reward_function.reward_kwargs.solver_max_tokens=$solver_length
$challenger_reward
"
export SOLVER_OVERRIDES="$common
trainer.total_training_steps=$solver_steps
data.max_response_length=$solver_length
$solver_reward
"

exec bash "$root/scripts/rzero_loop.sh" "$@"
