#!/usr/bin/env bash
# The R-Zero co-evolution loop. For k = 1..ITERATIONS:
#   serve Solver(k-1) -> train Challenger(k) (GRPO) -> stop the service
#   -> generate questions with Challenger(k) -> label them with Solver(k-1) (filter)
#   (TASK=code: code tasks, validated by the sandbox, answered by Solver(k-1) and verified by the executor)
#   -> train Solver(k) on the kept set (GRPO) -> evaluate Solver(k)
# Iteration 0 is the base model in both roles. The example scripts set the variables below
# (examples/run_qwen3_4b.sh: verl on GPUs; examples/run_smollm2_cpu.sh: trl on CPU). Training
# settings, the number of steps included, live in the Hydra configs (recipe/rzero/config) and the
# overrides below; both engines leave each trained role at <checkpoints>/model (recipe/rzero/training.py).
#
#   rzero_loop.sh [--dry-run] [--no-eval] [--base-challenger] [--no-repetition-penalty] [--no-filter]
#     --dry-run                print every command of the plan instead of running it
#     --no-eval                skip the evaluation stages (EVAL_ARGS and GOLD_LABEL_ARGS)
#     --base-challenger        ablation: skip Challenger training, the base model writes the questions
#     --no-repetition-penalty  ablation: Challenger reward without the batch repetition penalty
#     --no-filter              ablation: train the Solver on every labelled question (no p-hat band)
#
# Resumable: every stage writes a marker (its command's hash) only after it succeeded; re-running
# the same command skips finished stages, and the stages themselves resume from their chunks or
# checkpoints. It stops only what it started (the solver service, by PID, on any exit) and fails
# with the stage name and its log. RUN_DIR holds everything: run.json, logs/, iter_k/, eval/, report/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/stages.sh
source "$root/scripts/stages.sh"
: "${RUN_DIR:?set RUN_DIR}" "${BASE_MODEL:?set BASE_MODEL}"
settings+=(BASE_MODEL)
setting ENGINE verl                             # verl (GPU cluster) or trl (single machine, CPU too)
setting TASK math                               # math (R-Zero: questions, majority-vote pseudo-labels) or
                                                # code (code tasks verified by the executor, issue 13)
setting ITERATIONS 3
PYTHON=${PYTHON:-python3}                       # environment of the training engine
INFER_PYTHON=${INFER_PYTHON:-$PYTHON}           # environment with vLLM (service, generate, label, evaluate)
setting TRAIN_GPUS 0,1,2,3,4,5,6,7              # GPUs of Solver training
setting CHALLENGER_GPUS "$TRAIN_GPUS"           # GPUs of Challenger training
setting SOLVER_GPUS ""                          # GPUs serving the Solver during Challenger training
setting PROMPT_ARGS ""                          # extra rzero challenger-prompts arguments
setting SERVE_ARGS ""                           # extra rzero serve-solver arguments
setting GENERATE_ARGS ""                        # extra rzero generate (TASK=code: generate-code) arguments
setting LABEL_ARGS ""                           # extra rzero label (TASK=code: label-code) arguments
setting GOLD_LABEL_ARGS ""                      # if set: also label a benchmark with real answers
                                                # (rzero label --benchmark ... --gold) for pseudo-label accuracy
setting EVAL_ARGS ""                            # if set: evaluate the base model and every Solver(k)
                                                # (rzero evaluate arguments, e.g. --benchmarks gsm8k)
# Training overrides of each role, one per line (the example scripts fill these); the Challenger's
# prompt rows follow from its composed config (batch × steps).
setting CHALLENGER_OVERRIDES ""
setting SOLVER_OVERRIDES ""

dry_run=false base_challenger=false no_penalty=false no_filter=false
for flag in "$@"; do
  case "$flag" in
    --dry-run) dry_run=true ;;
    --no-eval) EVAL_ARGS="" GOLD_LABEL_ARGS="" ;;
    --base-challenger) base_challenger=true ;;
    --no-repetition-penalty) no_penalty=true ;;
    --no-filter) no_filter=true ;;
    *) echo "rzero_loop.sh: unknown argument '$flag' (see the header of $0)" >&2; exit 2 ;;
  esac
done
case "$ENGINE" in
  verl) train_module=recipe.rzero.main_rzero ;;
  trl) train_module=recipe.rzero.main_trl ;;
  *) echo "rzero_loop.sh: ENGINE must be verl or trl, got '$ENGINE'" >&2; exit 2 ;;
esac
$no_penalty && CHALLENGER_OVERRIDES+=$'\nreward.custom_reward_function.reward_kwargs.repetition_penalty=false'
case "$TASK" in  # the task's stages, their files, and label's keep-everything flag
  math) generate=generate label=label proposals=questions.jsonl proposals_flag=--questions keep_all=--no-filter ;;
  code) generate=generate-code label=label-code proposals=tasks.jsonl proposals_flag=--tasks keep_all="--keep all"
    [[ -z "$GOLD_LABEL_ARGS" ]] || { echo "rzero_loop.sh: GOLD_LABEL_ARGS labels math questions; unset it with TASK=code" >&2; exit 2; } ;;
  *) echo "rzero_loop.sh: TASK must be math or code, got '$TASK'" >&2; exit 2 ;;
esac
$no_filter && LABEL_ARGS+=" $keep_all"

export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"

service_pid=""
solver_urls=""
stop_service() {
  if [[ -n "$service_pid" ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid"   # serve_solver.py stops its own vLLM process groups on SIGTERM
    wait "$service_pid" || true
  fi
  service_pid=""
}
trap stop_service EXIT
# On Ctrl-C or a scheduler's SIGTERM, exit through the EXIT trap (after the foreground stage dies too).
trap 'exit 130' INT
trap 'exit 143' TERM

start_service() {  # MODEL LOGDIR: serve the Solver in the background; sets solver_urls
  local model=$1 log_dir=$2
  local -a command=("$INFER_PYTHON" -m recipe.rzero serve-solver --model "$model" --log-dir "$log_dir")
  [[ -n "$SOLVER_GPUS" ]] && command+=(--device cuda --gpu-ids ${SOLVER_GPUS//,/ })
  # shellcheck disable=SC2206
  command+=($SERVE_ARGS)
  if $dry_run; then echo "# solver service (background, stopped after Challenger training)"; show "${command[@]}"; solver_urls="http://127.0.0.1:PORT"; return; fi
  mkdir -p "$log_dir"
  echo "[rzero] serving the Solver $model (log: $log_dir/service.log)"
  "${command[@]}" >"$log_dir/urls.txt" 2>"$log_dir/service.log" &
  service_pid=$!
  until grep -q '^http' "$log_dir/urls.txt" 2>/dev/null; do
    if ! kill -0 "$service_pid" 2>/dev/null; then
      echo "[rzero] the solver service failed; see $log_dir/service.log" >&2; tail -n 30 "$log_dir/service.log" >&2; exit 1
    fi
    sleep 2
  done
  solver_urls=$(grep '^http' "$log_dir/urls.txt" | cut -d' ' -f1 | paste -sd, -)
}

# train ROLE NAME MODEL DATA DIR GPUS OVERRIDES: the role's GRPO command (into the `train` array);
# the trained model will be DIR/model.
train_command() {
  local role=$1 name=$2 model=$3 data=$4 dir=$5 gpus=$6 overrides=$7
  # shellcheck disable=SC2206
  train=(env CUDA_VISIBLE_DEVICES="$gpus" TENSORBOARD_DIR="$dir/tensorboard" "$PYTHON" -m "$train_module"
    --config-name "rzero_$role"
    hydra.run.dir="$dir/hydra"
    actor_rollout_ref.model.path="$model"
    data.train_files="$data"
    trainer.default_local_dir="$dir"
    trainer.experiment_name="$(basename "$RUN_DIR")_${name}"
    $overrides)
}

record_run "$@"

evaluate iter_0_evaluate "$BASE_MODEL" "$RUN_DIR/eval/iter_0"
challenger=$BASE_MODEL
solver=$BASE_MODEL
for ((k = 1; k <= ITERATIONS; k++)); do
  it="$RUN_DIR/iter_$k"
  # --- Challenger(k) from Challenger(k-1), rewarded by Solver(k-1)
  if ! $base_challenger; then
    # Rows = data.train_batch_size x trainer.total_training_steps of the config the training composes.
    # shellcheck disable=SC2086
    stage "iter_${k}_challenger_prompts" -- "$PYTHON" -m recipe.rzero challenger-prompts --task "$TASK" \
      --output "$it/challenger_prompts.parquet" $PROMPT_ARGS --config-name rzero_challenger $CHALLENGER_OVERRIDES
    train_command challenger "iter${k}_challenger" "$challenger" "$it/challenger_prompts.parquet" \
      "$it/challenger_checkpoints" "$CHALLENGER_GPUS" \
      "reward.custom_reward_function.reward_kwargs.solver_urls='@SOLVER_URLS@'
$CHALLENGER_OVERRIDES"
    if $dry_run || ! is_done "iter_${k}_challenger_train" -- "${train[@]}"; then
      start_service "$solver" "$it/solver_service"  # only for a training that will run
    fi
    stage "iter_${k}_challenger_train" -- "${train[@]}"
    stop_service
    challenger="$it/challenger_checkpoints/model"
  fi
  # --- questions (or code tasks) from Challenger(k), pseudo-labels (or verified answers) from Solver(k-1)
  # shellcheck disable=SC2086
  stage "iter_${k}_generate" -- "$INFER_PYTHON" -m recipe.rzero "$generate" \
    --model "$challenger" --output "$it/$proposals" $GENERATE_ARGS
  # shellcheck disable=SC2086
  stage "iter_${k}_label" -- "$INFER_PYTHON" -m recipe.rzero "$label" \
    --model "$solver" "$proposals_flag" "$it/$proposals" --output "$it/solver_train.parquet" $LABEL_ARGS
  if [[ -n "$GOLD_LABEL_ARGS" ]]; then
    # shellcheck disable=SC2086
    stage "iter_${k}_label_gold" -- "$INFER_PYTHON" -m recipe.rzero label \
      --model "$solver" --gold --output "$it/gold_labels.parquet" $GOLD_LABEL_ARGS
  fi
  # --- Solver(k) from Solver(k-1) on the kept questions
  train_command solver "iter${k}_solver" "$solver" "$it/solver_train.parquet" \
    "$it/solver_checkpoints" "$TRAIN_GPUS" "$SOLVER_OVERRIDES"
  stage "iter_${k}_solver_train" -- "${train[@]}"
  solver="$it/solver_checkpoints/model"
  evaluate "iter_${k}_evaluate" "$solver" "$RUN_DIR/eval/iter_$k"
done
if $dry_run; then
  echo "# report"; show "$PYTHON" -m recipe.rzero report "$RUN_DIR"
else
  "$PYTHON" -m recipe.rzero report "$RUN_DIR"
  echo "[rzero] done: Solver $solver, Challenger $challenger; report: $RUN_DIR/report/report.md"
fi
