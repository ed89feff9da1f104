"""Benchmark one training row's forward and backward on this CPU in bf16 against fp32, the baseline
measured in the same run: why `recipe/rzero/config/device/cpu.yaml` trains in fp32 on CPUs without
bf16 instructions (`recipe/rzero/hardware.py`).

The model has SmolLM2-135M's shape (the embedded model; random weights: time does not depend on
them), gradient checkpointing on as in verl's actor; bf16 is verl's default compute (`torch.autocast`
over fp32 parameters, as its FSDP engine runs a micro-batch). CPUs without AVX-512 bf16 or AMX
instructions run bf16 products on a slow fallback.

    python -m benchmarks.bench_compute_dtype                # one 512-token row
    python -m benchmarks.bench_compute_dtype --tokens 128
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from recipe.rzero.hardware import cpu_bf16_instructions

# HuggingFaceTB/SmolLM2-135M-Instruct's config.json
SMOLLM2_135M = LlamaConfig(
    hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
    vocab_size=49152, max_position_embeddings=8192, tie_word_embeddings=True, attn_implementation="sdpa",
)  # fmt: skip


def training_model(checkpointing: bool = True) -> LlamaForCausalLM:
    """A model of SmolLM2-135M's shape (seeded random weights) in training mode, gradient checkpointing
    on unless `checkpointing` is False."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(SMOLLM2_135M)
    if checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    return model


def time_row(model: LlamaForCausalLM, tokens: int, dtype: torch.dtype) -> tuple[float, float]:
    """Seconds for one row's forward (with the loss) and backward, computing in `dtype`."""
    input_ids = torch.randint(0, SMOLLM2_135M.vocab_size, (1, tokens))
    compute = torch.autocast("cpu", dtype=dtype) if dtype != torch.float32 else contextlib.nullcontext()
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    with compute:
        loss = model(input_ids=input_ids, labels=input_ids).loss
    forward = time.perf_counter() - start
    start = time.perf_counter()
    loss.backward()
    return forward, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=512, help="the row's length")
    args = parser.parse_args(argv)
    model = training_model()
    instructions = cpu_bf16_instructions() or "none"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 instructions: {instructions}")
    time_row(model, 16, torch.float32)  # warm-up
    results = {dtype: time_row(model, args.tokens, dtype) for dtype in (torch.float32, torch.bfloat16)}
    fp32, bf16 = results[torch.float32], results[torch.bfloat16]
    print(f"1 x {args.tokens} tokens  forward: fp32 {fp32[0]:.1f} s, bf16 {bf16[0]:.1f} s ({bf16[0] / fp32[0]:.1f}x)")
    print(f"1 x {args.tokens} tokens backward: fp32 {fp32[1]:.1f} s, bf16 {bf16[1]:.1f} s ({bf16[1] / fp32[1]:.1f}x)")


if __name__ == "__main__":
    main()
