#!/usr/bin/env bash
# The main job on a CPU machine with the embedded SmolLM2-135M-Instruct.
#
# Today it runs the inference stages of one R-Zero iteration for real, on vLLM's CPU build:
#   the base model as Challenger writes questions (generate), the base model as Solver labels
#   GSM8K questions by majority vote (label, with the pseudo-label accuracy against the real
#   answers), and the base model is evaluated on small slices of GSM8K and MATH-500.
# The GRPO training stages on CPU (the `trl` engine) join with the co-evolution loop issue.
#   bash examples/run_smollm2_cpu.sh
set -xeuo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_dir=${RUN_DIR:-$root/runs/smollm2_cpu}
data_dir=${DATA_DIR:-$root/../shared/data/benchmarks}
questions=${QUESTIONS:-32}      # Challenger samples
label_items=${LABEL_ITEMS:-16}  # GSM8K questions to pseudo-label
samples=${SAMPLES:-8}           # Solver answers per question (m)
eval_items=${EVAL_ITEMS:-32}    # items per benchmark in the evaluation
max_tokens=${MAX_TOKENS:-384}

eval "export $(bash "$root/scripts/setup_envs.sh" | tr '\n' ' ')"
model=$("$RZERO_TRAIN_PYTHON" "$root/scripts/prepare_model.py")
mkdir -p "$run_dir"

"$RZERO_INFER_PYTHON" "$root/scripts/generate.py" --model "$model" --output "$run_dir/iter_1/questions.jsonl" \
  --num-questions "$questions" --max-tokens "$max_tokens" --max-model-len 2048
"$RZERO_INFER_PYTHON" "$root/scripts/label.py" --model "$model" --benchmark gsm8k --data-dir "$data_dir" \
  --limit "$label_items" --gold --samples "$samples" --max-tokens "$max_tokens" --max-model-len 2048 \
  --output "$run_dir/iter_1/gsm8k_pseudo_labels.parquet"
"$RZERO_INFER_PYTHON" "$root/scripts/evaluate.py" --model "$model" --benchmarks gsm8k math500 \
  --data-dir "$data_dir" --limit "$eval_items" --max-tokens "$max_tokens" --max-model-len 2048 \
  --output-dir "$run_dir/eval/base"

set +x
echo "== generated questions:  $(cat "$run_dir/iter_1/questions.stats.json" | tr -d '\n ')"
echo "== GSM8K pseudo-labels:  $(cat "$run_dir/iter_1/gsm8k_pseudo_labels.stats.json" | tr -d '\n ')"
echo "== evaluation of the base model:"
cat "$run_dir/eval/base/results.md"
