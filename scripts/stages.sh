# Resumable stages for the loops (sourced by scripts/rzero_loop.sh and scripts/azr_loop.sh).
#
# The sourcing script sets RUN_DIR and dry_run (true/false), declares its settings with `setting`, and
# runs its work as `stage NAME -- COMMAND...`. A stage's identity is its command line: it writes a
# marker (the command's hash) in RUN_DIR/.done only after it succeeded, so re-running the same command
# skips finished stages (the commands themselves resume from their chunks or checkpoints); a failed
# stage stops the script with its name and the end of its log (RUN_DIR/logs/NAME.log). With
# dry_run=true every stage prints its command instead. In a command, `@SOLVER_URLS@` stands for the
# value of $solver_urls when it runs (R-Zero's Solver service address, which varies between runs).

# setting NAME DEFAULT: NAME from the environment, else DEFAULT; recorded in run.json.
settings=()
setting() { settings+=("$1"); printf -v "$1" '%s' "${!1:-$2}"; }

show() { printf '%q ' "$@"; printf '\n'; }

digest() { show "$@" | sha256sum | cut -c1-16; }
is_done() {  # NAME -- COMMAND...
  local marker="$RUN_DIR/.done/$1"; shift 2
  [[ -f "$marker" && "$(cat "$marker")" == "$(digest "$@")" ]]
}

# stage NAME -- COMMAND...: run COMMAND unless NAME already succeeded with this very command.
stage() {
  local name=$1; shift 2
  local log="$RUN_DIR/logs/$name.log" argument started
  local -a command=()
  for argument in "$@"; do command+=("${argument//@SOLVER_URLS@/${solver_urls:-}}"); done
  if $dry_run; then echo "# stage $name"; show "${command[@]}"; return; fi
  if is_done "$name" -- "$@"; then echo "[rzero] $name: done, skipped"; return; fi
  echo "[rzero] $name: running (log: $log)"
  started=$SECONDS
  if ! "${command[@]}" >"$log" 2>&1; then
    echo "[rzero] stage $name failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  echo "[rzero] $name: finished in $((SECONDS - started)) s"
  mkdir -p "$RUN_DIR/.done"
  digest "$@" >"$RUN_DIR/.done/$name.partial" && mv "$RUN_DIR/.done/$name.partial" "$RUN_DIR/.done/$name"
}

# record_run FLAGS...: write RUN_DIR/run.json (the settings, both environments, the checkout); not in a dry run.
record_run() {
  $dry_run && return
  mkdir -p "$RUN_DIR/logs"
  local -a recorded=("flags=$*")
  local name
  for name in "${settings[@]}"; do recorded+=("$name=${!name}"); done
  "$PYTHON" -m recipe.rzero run-info --output "$RUN_DIR/run.json" \
    --python "train=$PYTHON" "infer=$INFER_PYTHON" --setting "${recorded[@]}"
}

# evaluate NAME MODEL OUTPUT_DIR: `rzero evaluate` of MODEL with $EVAL_ARGS (nothing when EVAL_ARGS is empty).
evaluate() {
  [[ -z "$EVAL_ARGS" ]] && return
  # shellcheck disable=SC2086
  stage "$1" -- "$INFER_PYTHON" -m recipe.rzero evaluate --model "$2" --output-dir "$3" $EVAL_ARGS
}
