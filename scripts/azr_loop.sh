#!/usr/bin/env bash
# An Absolute Zero run (arXiv 2505.03335; recipe/azr): evaluate the base model -> [seed the buffers] -> self-play
# (propose, validate, solve, TRR++; verl, recipe.azr.main_azr) -> evaluate the self-played model -> report.
# The example scripts set the variables below (examples/run_azr_qwen2.5_coder_7b.sh: GPUs, the
# paper's settings; examples/run_azr_coder_cpu.sh: verl's trainer on this CPU with the embedded
# coder model). Training settings live in recipe/azr/config/azr.yaml and the OVERRIDES below.
#
#   azr_loop.sh [--dry-run] [--no-eval]
#     --dry-run  print every command of the plan instead of running it
#     --no-eval  skip the evaluation stages
#
# Resumable (scripts/stages.sh): finished stages are skipped, self-play resumes from its last
# checkpoint with the buffers saved in it. RUN_DIR holds everything: run.json, logs/, selfplay/
# (checkpoints, azr_steps.jsonl, model/), eval/base, eval/selfplay, report/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/stages.sh
source "$root/scripts/stages.sh"
: "${RUN_DIR:?set RUN_DIR}" "${BASE_MODEL:?set BASE_MODEL}"
settings+=(BASE_MODEL)
PYTHON=${PYTHON:-python3}                       # environment of verl
INFER_PYTHON=${INFER_PYTHON:-$PYTHON}           # environment with vLLM (evaluation)
setting TRAIN_GPUS 0,1,2,3                      # GPUs of self-play (rollout and training)
setting EVAL_ARGS ""                            # if set: evaluate the base and the self-played model
                                                # (rzero evaluate arguments, e.g. --benchmarks cruxeval_o)
setting SEED_ARGS ""                            # if set: a seeding stage fills the buffers first (§3.3.1;
                                                # rzero azr-seed arguments, e.g. --size 256)
setting OVERRIDES ""                            # Hydra overrides of recipe/azr/config/azr.yaml, one per line

dry_run=false
for flag in "$@"; do
  case "$flag" in
    --dry-run) dry_run=true ;;
    --no-eval) EVAL_ARGS="" ;;
    *) echo "azr_loop.sh: unknown argument '$flag' (see the header of $0)" >&2; exit 2 ;;
  esac
done
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"

record_run "$@"
evaluate evaluate_base "$BASE_MODEL" "$RUN_DIR/eval/base"
if [[ -n "$SEED_ARGS" ]]; then
  # shellcheck disable=SC2086
  stage seed -- "$INFER_PYTHON" -m recipe.rzero azr-seed --model "$BASE_MODEL" --output "$RUN_DIR/seed_buffers.json" $SEED_ARGS
  OVERRIDES+=$'\n'"azr.seed_buffers=$RUN_DIR/seed_buffers.json"
fi
dir="$RUN_DIR/selfplay"
# shellcheck disable=SC2206
train=(env CUDA_VISIBLE_DEVICES="$TRAIN_GPUS" TENSORBOARD_DIR="$dir/tensorboard" "$PYTHON" -m recipe.azr.main_azr
  hydra.run.dir="$dir/hydra"
  actor_rollout_ref.model.path="$BASE_MODEL"
  trainer.default_local_dir="$dir"
  trainer.experiment_name="$(basename "$RUN_DIR")"
  $OVERRIDES)
stage selfplay -- "${train[@]}"
evaluate evaluate_selfplay "$dir/model" "$RUN_DIR/eval/selfplay"
if $dry_run; then
  echo "# report"; show "$PYTHON" -m recipe.rzero report "$RUN_DIR"
else
  "$PYTHON" -m recipe.rzero report "$RUN_DIR"
  echo "[azr] done: $dir/model; report: $RUN_DIR/report/report.md"
fi
