"""Benchmark one actor update's forwards and backwards on this CPU with one row per micro-batch against
verl's token-budget micro-batches, the baseline measured in the same run: why
`recipe/rzero/config/device/cpu.yaml` sets `use_dynamic_bsz: false` and micro-batches of one row.

verl on CPU has no padding removal (flash-attention's varlen kernels), so its FSDP engine pads each
micro-batch to its longest row. With `use_dynamic_bsz` verl splits a batch into as few micro-batches
as `ppo_max_token_len_per_gpu` allows, balanced by token count (`get_seqlen_balanced_partitions`),
so long and short rows share micro-batches. The default rows have the shape of an AZR step of the
CPU tests (B = 2: two proposals per task type, deduction and abduction prompts of ~800 tokens,
induction ~200, and six solver prompts of ~300, each with up to 128 generated tokens).

The model has SmolLM2-135M's shape (`bench_compute_dtype`; random weights), fp32, gradient
checkpointing on, as in the tests' runs.

    python -m benchmarks.bench_micro_batches
    python -m benchmarks.bench_micro_batches --rows 900 300 --max-tokens 4096
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from transformers import LlamaForCausalLM
from verl.utils.seqlen_balancing import get_seqlen_balanced_partitions

from benchmarks.bench_compute_dtype import SMOLLM2_135M, training_model

AZR_STEP_ROWS = [880, 900, 330, 910, 870, 300, 420, 380, 450, 400, 430, 390]


def time_micro_batch(model: LlamaForCausalLM, lengths: list[int]) -> float:
    """Seconds for the forward (with a token-mean loss) and backward of one left-padded micro-batch
    of rows of `lengths` tokens."""
    width = max(lengths)
    input_ids = torch.randint(0, SMOLLM2_135M.vocab_size, (len(lengths), width))
    attention_mask = torch.tensor([[0] * (width - n) + [1] * n for n in lengths])
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    start = time.perf_counter()
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
    log_probs = torch.log_softmax(logits.float(), -1).gather(-1, input_ids[..., None])[..., 0]
    (-(log_probs * attention_mask).sum() / attention_mask.sum()).backward()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=AZR_STEP_ROWS, help="tokens of each row")
    parser.add_argument("--max-tokens", type=int, default=4096, help="ppo_max_token_len_per_gpu")
    args = parser.parse_args(argv)
    model = training_model()
    time_micro_batch(model, [16])  # warm-up
    parts = get_seqlen_balanced_partitions(args.rows, math.ceil(sum(args.rows) / args.max_tokens), equal_size=False)
    budget = [[args.rows[i] for i in part] for part in parts]
    padded = sum(len(part) * max(part) for part in budget)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(args.rows)} rows, {sum(args.rows)} tokens")
    by_budget = sum(time_micro_batch(model, part) for part in budget)
    print(f"token budget {args.max_tokens}: {len(budget)} micro-batches, {padded} tokens with padding, {by_budget:.1f} s")
    by_row = sum(time_micro_batch(model, [row]) for row in args.rows)
    print(f"one row each: {len(args.rows)} micro-batches, {sum(args.rows)} tokens, {by_row:.1f} s")
    print(f"speed-up: {by_budget / by_row:.2f}x")


if __name__ == "__main__":
    main()
