"""Benchmark the `hf` rollout's generation on this CPU with its grouped-query attention
(`recipe/rzero/cpu/rollout.py`, `grouped_query_sdpa`) against transformers' own `sdpa`, the baseline
measured in the same run.

A model of SmolLM2-135M's shape (`bench_compute_dtype`; random weights, fp32, 9 query heads over 3
key/value heads) samples `--new-tokens` tokens for `--rows` left-padded prompts of `--prompt-tokens`
tokens and fewer (`generate_batch`, the server's call; no end-of-sequence token can stop it early).
With a padding mask transformers copies the key/value heads to the query heads at every step of
every layer; torch's CPU flash kernel groups them itself.

    python -m benchmarks.bench_rollout_attention
    python -m benchmarks.bench_rollout_attention --rows 16 --prompt-tokens 300
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from transformers import LlamaForCausalLM

from benchmarks.bench_compute_dtype import SMOLLM2_135M
from recipe.rzero.cpu.rollout import generate_batch, load_model


def time_generation(model: LlamaForCausalLM, prompts: list[list[int]], new_tokens: int) -> float:
    """Seconds to sample `new_tokens` tokens for each of `prompts` (temperature 0.7, no early end)."""
    params = {"temperature": 0.7, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "max_tokens": new_tokens,
              "logprobs": True}  # fmt: skip
    never = SMOLLM2_135M.vocab_size  # an end-of-sequence id outside the vocabulary
    torch.manual_seed(0)
    start = time.perf_counter()
    results = generate_batch(model, prompts, params, {never}, 0)
    assert all(len(tokens) == new_tokens for tokens, _ in results)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=6, help="prompts in the batch")
    parser.add_argument("--prompt-tokens", type=int, default=800, help="the longest prompt; the others shorter")
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens sampled per prompt")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    lengths = [args.prompt_tokens - 40 * row for row in range(args.rows)]
    prompts = [torch.randint(1, SMOLLM2_135M.vocab_size, (n,)).tolist() for n in lengths]
    with tempfile.TemporaryDirectory() as directory:
        LlamaForCausalLM(SMOLLM2_135M).save_pretrained(directory)
        grouped = load_model(directory, torch.float32)
        baseline = LlamaForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="sdpa").eval()
    time_generation(grouped, prompts[:1], 2)  # warm-up
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.rows} rows of {min(lengths)}-"
          f"{max(lengths)} prompt tokens, {args.new_tokens} new tokens each")  # fmt: skip
    sdpa = time_generation(baseline, prompts, args.new_tokens)
    print(f"transformers' sdpa (key/value heads copied): {sdpa:.1f} s")
    ours = time_generation(grouped, prompts, args.new_tokens)
    print(f"grouped_query_sdpa (enable_gqa): {ours:.1f} s, {sdpa / ours:.2f}x faster")


if __name__ == "__main__":
    main()
