#!/usr/bin/env bash
# The R-Zero co-evolution loop with the verl engine: for k = 1..ITERATIONS
#   serve Solver(k-1) -> train Challenger(k) (GRPO) -> stop the service -> merge to HF
#   -> generate questions with Challenger(k) -> label them with Solver(k-1)
#   -> train Solver(k) on the kept set (GRPO) -> merge to HF
# Iteration 0 is the base model in both roles. Run it through an example script
# (examples/run_qwen3_4b.sh), which sets the variables below.
#
# Resumable: every stage writes a marker (its command's hash) only after it succeeded; re-running
# the same command skips finished stages. It stops only what it started (the solver service's
# process, by PID, on any exit) and fails with the stage name and its log.
#   --dry-run   print every command of the plan instead of running it
set -euo pipefail

: "${RUN_DIR:?set RUN_DIR}" "${BASE_MODEL:?set BASE_MODEL}"
ITERATIONS=${ITERATIONS:-3}
PYTHON=${PYTHON:-python3}                       # one environment with verl and vLLM (GPU machines)
CHALLENGER_STEPS=${CHALLENGER_STEPS:-5}         # must match trainer.total_training_steps of each role
SOLVER_STEPS=${SOLVER_STEPS:-15}
TRAIN_GPUS=${TRAIN_GPUS:-0,1,2,3,4,5,6,7}       # GPUs of Solver training
CHALLENGER_GPUS=${CHALLENGER_GPUS:-$TRAIN_GPUS} # GPUs of Challenger training
SOLVER_GPUS=${SOLVER_GPUS:-}                    # GPUs serving the Solver during Challenger training
SERVE_ARGS=${SERVE_ARGS:-}                      # extra scripts/serve_solver.py arguments
GENERATE_ARGS=${GENERATE_ARGS:-}                # extra scripts/generate.py arguments
LABEL_ARGS=${LABEL_ARGS:-}                      # extra scripts/label.py arguments
# verl overrides of each role, one per line (the example scripts fill these).
CHALLENGER_OVERRIDES=${CHALLENGER_OVERRIDES:-}
SOLVER_OVERRIDES=${SOLVER_OVERRIDES:-}

dry_run=false
[[ "${1:-}" == "--dry-run" ]] && dry_run=true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
$dry_run || mkdir -p "$RUN_DIR/logs"

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

show() { printf '%q ' "$@"; printf '\n'; }

# A stage's identity is its command line; `@SOLVER_URLS@` stands for the service's (varying) address.
digest() { show "$@" | sha256sum | cut -c1-16; }
is_done() {  # NAME -- COMMAND...
  local marker="$RUN_DIR/.done/$1"; shift 2
  [[ -f "$marker" && "$(cat "$marker")" == "$(digest "$@")" ]]
}

# stage NAME -- COMMAND...: run COMMAND unless NAME already succeeded with this very command.
stage() {
  local name=$1; shift 2
  local log="$RUN_DIR/logs/$name.log" argument
  local -a command=()
  for argument in "$@"; do command+=("${argument//@SOLVER_URLS@/$solver_urls}"); done
  if $dry_run; then echo "# stage $name"; show "${command[@]}"; return; fi
  if is_done "$name" -- "$@"; then echo "[rzero] $name: done, skipped"; return; fi
  echo "[rzero] $name: running (log: $log)"
  if ! "${command[@]}" >"$log" 2>&1; then
    echo "[rzero] stage $name failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  mkdir -p "$RUN_DIR/.done"
  digest "$@" >"$RUN_DIR/.done/$name.partial" && mv "$RUN_DIR/.done/$name.partial" "$RUN_DIR/.done/$name"
}

start_service() {  # MODEL LOGDIR: serve the Solver in the background; sets solver_urls
  local model=$1 log_dir=$2
  local -a command=("$PYTHON" "$root/scripts/serve_solver.py" --model "$model" --log-dir "$log_dir")
  [[ -n "$SOLVER_GPUS" ]] && command+=(--device cuda --gpu-ids ${SOLVER_GPUS//,/ })
  # shellcheck disable=SC2206
  command+=($SERVE_ARGS)
  if $dry_run; then echo "# solver service (background, stopped after Challenger training)"; show "${command[@]}"; solver_urls="http://127.0.0.1:PORT"; return; fi
  mkdir -p "$log_dir"
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

merge() {  # NAME CHECKPOINT_DIR STEPS TARGET
  stage "$1" -- "$PYTHON" -m verl.model_merger merge --backend fsdp \
    --local_dir "$2/global_step_$3/actor" --target_dir "$4"
}

challenger=$BASE_MODEL
solver=$BASE_MODEL
for ((k = 1; k <= ITERATIONS; k++)); do
  it="$RUN_DIR/iter_$k"
  # --- Challenger(k) from Challenger(k-1), rewarded by Solver(k-1)
  stage "iter_${k}_challenger_prompts" -- "$PYTHON" "$root/scripts/challenger_prompts.py" \
    --output "$it/challenger_prompts.parquet" --rows "${CHALLENGER_PROMPT_ROWS:-640}"
  # shellcheck disable=SC2206
  challenger_train=(env CUDA_VISIBLE_DEVICES="$CHALLENGER_GPUS" "$PYTHON" -m recipe.rzero.main_rzero
    --config-name rzero_challenger
    actor_rollout_ref.model.path="$challenger"
    data.train_files="$it/challenger_prompts.parquet"
    reward.custom_reward_function.reward_kwargs.solver_urls="'@SOLVER_URLS@'"
    trainer.total_training_steps="$CHALLENGER_STEPS"
    trainer.default_local_dir="$it/challenger_checkpoints"
    trainer.experiment_name="$(basename "$RUN_DIR")_iter${k}_challenger"
    $CHALLENGER_OVERRIDES)
  if $dry_run || ! is_done "iter_${k}_challenger_train" -- "${challenger_train[@]}"; then
    start_service "$solver" "$it/solver_service"
    stage "iter_${k}_challenger_train" -- "${challenger_train[@]}"
    stop_service
  fi
  merge "iter_${k}_challenger_merge" "$it/challenger_checkpoints" "$CHALLENGER_STEPS" "$it/challenger"
  # --- questions from Challenger(k), pseudo-labels from Solver(k-1)
  # shellcheck disable=SC2086
  stage "iter_${k}_generate" -- "$PYTHON" "$root/scripts/generate.py" \
    --model "$it/challenger" --output "$it/questions.jsonl" $GENERATE_ARGS
  # shellcheck disable=SC2086
  stage "iter_${k}_label" -- "$PYTHON" "$root/scripts/label.py" \
    --model "$solver" --questions "$it/questions.jsonl" --output "$it/solver_train.parquet" $LABEL_ARGS
  # --- Solver(k) from Solver(k-1) on the kept questions
  # shellcheck disable=SC2086
  stage "iter_${k}_solver_train" -- env CUDA_VISIBLE_DEVICES="$TRAIN_GPUS" "$PYTHON" -m recipe.rzero.main_rzero \
    --config-name rzero_solver \
    actor_rollout_ref.model.path="$solver" \
    data.train_files="$it/solver_train.parquet" \
    trainer.total_training_steps="$SOLVER_STEPS" \
    trainer.default_local_dir="$it/solver_checkpoints" \
    trainer.experiment_name="$(basename "$RUN_DIR")_iter${k}_solver" \
    $SOLVER_OVERRIDES
  merge "iter_${k}_solver_merge" "$it/solver_checkpoints" "$SOLVER_STEPS" "$it/solver"
  challenger="$it/challenger"
  solver="$it/solver"
done
$dry_run || echo "[rzero] done: Solver $solver, Challenger $challenger"
