"""Benchmark the solver service against plain transformers `generate` on the same work.

32 questions × m = 10 samples (T = 1.0, up to `--max-tokens` each) with an embedded model (default
SmolLM2): (a) through `SolverService` + `SolverClient` (vLLM), (b) with transformers `generate`
(`num_return_sequences = m`, several questions per batch, vLLM's dtype: `--dtype`, default `auto`,
on CPU bf16 where it has bf16 instructions, else fp32). Reports questions/s
and generated tokens/s for both and the ratio; target ≥ 5×. Run in the infer environment, after
`rzero prepare-model --model NAME` converted the model in the train environment:

    python -m benchmarks.bench_solver [--model qwen2.5-coder-0.5b] [--questions 32] [--samples 10]
        [--max-tokens 256] [--replicas 2] [--compiled] [--service-only] [--dtype float32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.question_batches import near_duplicate_batch
from recipe.rzero.embedded_models import DEFAULT_MODEL, EMBEDDED_MODELS, prepare_embedded_model
from recipe.rzero.prompts import solver_messages
from recipe.rzero.solver_client import SolverClient, SolverClientConfig
from recipe.rzero.solver_service import SolverService, SolverServiceConfig
from recipe.rzero.vllm_engine import resolve_device, resolve_dtype


def bench_service(
    model: str, questions: list[str], samples: int, max_tokens: int, replicas: int, enforce_eager: bool, dtype: str
) -> tuple[float, int, float]:
    """(seconds, generated tokens, start-up seconds) through the vLLM service."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    with tempfile.TemporaryDirectory() as logs:
        started = time.perf_counter()
        config = SolverServiceConfig(
            model=model, max_model_len=2048, log_dir=Path(logs), replicas=replicas, enforce_eager=enforce_eager,
            dtype=dtype,
        )
        with SolverService(config) as service:
            startup = time.perf_counter() - started
            client = SolverClient(service.urls, SolverClientConfig(samples=samples, max_tokens=max_tokens))
            client.score(questions[:2])  # warm-up
            started = time.perf_counter()
            verdicts = client.score(questions)
            seconds = time.perf_counter() - started
    tokens = sum(len(tokenizer(r, add_special_tokens=False).input_ids) for v in verdicts for r in v.responses)
    return seconds, tokens, startup


def bench_transformers(
    model: str, questions: list[str], samples: int, max_tokens: int, batch_questions: int, dtype: str
) -> tuple[float, int]:
    """(seconds, generated tokens) with transformers `generate` in `dtype` (a torch dtype's name or `auto`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model, padding_side="left")
    network = AutoModelForCausalLM.from_pretrained(model, dtype=dtype if dtype == "auto" else getattr(torch, dtype))
    network.eval()
    tokens = 0
    started = time.perf_counter()
    for start in range(0, len(questions), batch_questions):
        prompts = [
            tokenizer.apply_chat_template(solver_messages(q), tokenize=False, add_generation_prompt=True)
            for q in questions[start : start + batch_questions]
        ]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            output = network.generate(
                **inputs,
                do_sample=True,
                temperature=1.0,
                top_k=0,
                max_new_tokens=max_tokens,
                num_return_sequences=samples,
                pad_token_id=tokenizer.pad_token_id,
            )
        generated = output[:, inputs.input_ids.shape[1] :]
        tokens += int((generated != tokenizer.pad_token_id).sum())
    return time.perf_counter() - started, tokens


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(EMBEDDED_MODELS), default=DEFAULT_MODEL, help="embedded model")
    parser.add_argument("--questions", type=int, default=32)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--hf-batch-questions", type=int, default=8, help="questions per transformers batch")
    parser.add_argument("--replicas", type=int, default=1, help="service replicas (on CPU: the cores split)")
    parser.add_argument("--compiled", action="store_true", help="let vLLM compile (slower start, faster decode)")
    parser.add_argument("--service-only", action="store_true", help="skip the transformers baseline")
    parser.add_argument("--dtype", default="auto", help="vLLM's dtype (and the baseline's); auto as the service")
    args = parser.parse_args(argv)
    dtype = resolve_dtype(args.dtype, resolve_device("auto"))
    model = str(prepare_embedded_model(name=args.model))
    questions = near_duplicate_batch(args.questions, seed=0)
    service_s, service_tokens, startup_s = bench_service(
        model, questions, args.samples, args.max_tokens, args.replicas, enforce_eager=not args.compiled, dtype=dtype
    )
    n = len(questions)
    print(
        f"{args.model}: {n} questions × m = {args.samples}, up to {args.max_tokens} tokens each; "
        f"{args.replicas} service replica(s), {dtype}, start-up {startup_s:.0f} s"
    )
    print("| engine | seconds | questions/s | generated tokens | tokens/s |")
    print("|---|---|---|---|---|")
    service_rate = service_tokens / service_s
    if not args.service_only:
        hf_s, hf_tokens = bench_transformers(
            model, questions, args.samples, args.max_tokens, args.hf_batch_questions, dtype
        )
        print(f"| transformers generate | {hf_s:.1f} | {n / hf_s:.2f} | {hf_tokens} | {hf_tokens / hf_s:.0f} |")
    print(f"| vLLM service | {service_s:.1f} | {n / service_s:.2f} | {service_tokens} | {service_rate:.0f} |")
    if not args.service_only:
        print(f"speed-up: {hf_s / service_s:.1f}× questions/s, {service_rate * hf_s / hf_tokens:.1f}× tokens/s")


if __name__ == "__main__":
    main()
