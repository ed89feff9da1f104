"""The `hf` rollout: verl's token-in/token-out rollout served by transformers' `generate`, for CPUs.

verl 0.9.1 rolls out through a server per replica (`RolloutReplica`, registered by name in
`RolloutReplicaRegistry`) and, inside each trainer process, an adapter that pushes the actor's
weights to it (`BaseRollout`, registered in `_ROLLOUT_REGISTRY`); it ships vLLM, SGLang and
TensorRT-LLM, none of which runs inside verl on a CPU. `register()` adds `rollout.name=hf`:

- `HFRolloutServer`, a Ray actor holding a transformers model: `generate` takes verl's
  `prompt_ids` and `sampling_params` (temperature, top_p, top_k, max_tokens, logprobs) and returns
  a `TokenOutput`; concurrent requests with the same sampling parameters are batched into one
  left-padded `generate` call. Sampled tokens stop at (and include) the first end-of-sequence token,
  as in vLLM. Log-probs, when asked for (`rollout.calculate_log_probs`), are those of
  softmax(logits / temperature) at each sampled token, the quantity verl's actor computes. Attention
  is torch's SDPA with grouped key/value heads (`grouped_query_sdpa`).
- `HFServerAdapter`, the trainer-side adapter: `update_weights` gathers the actor's full tensors and
  loads them into the server (by Ray object transfer, no CUDA IPC), after every update. With
  `rollout.free_cache_engine` the server frees its weights when verl puts it to sleep after each
  generation and takes them back at the next update, as vLLM's does on GPUs.
- `HFReplica`, one server per replica.

Differences from vLLM on GPUs: no paged KV cache or continuous batching (a batch runs to its
longest member), no HTTP endpoint (so verl's reward-model pool cannot serve through it), text only,
one process per replica (tensor/pipeline/data parallel size 1), no LoRA.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Generator
from typing import Any

import ray
import torch
from omegaconf import DictConfig
from transformers import (
    AttentionInterface,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from verl.utils.config import omega_conf_to_dataclass
from verl.workers.config import HFModelConfig, RolloutConfig
from verl.workers.rollout import base as rollout_base
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutReplica, RolloutReplicaRegistry, TokenOutput

from . import LIBC

NAME = "hf"
WEIGHT_BUCKET_BYTES = 256 << 20  # weights per load_weights message
BATCH_WINDOW_S = 0.05  # how long the first request of a batch waits for the others (they arrive together)
ATTENTION = "grouped_query_sdpa"  # the server's transformers attention implementation


def grouped_query_sdpa(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' `sdpa` attention (integrations/sdpa_attention.py, 5.10) with the key/value heads
    shared by torch (`enable_gqa`) whether or not there is a mask.

    query (batch, heads, positions, head size), key and value (batch, key/value heads, positions, head
    size); returns (batch, positions, heads, head size). transformers uses `enable_gqa` only without a
    mask (except on XPU), and otherwise copies each key/value head to its query heads before every call: with
    a left-padded batch, every decoding step of every layer (SmolLM2: 3 heads to 9, the whole cache).
    torch's CPU flash kernel groups the heads itself: one SmolLM2 layer's decoding step over 6 rows of
    800 cached positions, 1.8 vs 9 ms on one thread (the rollout's decoding, benchmarks/README.md).
    """
    causal = query.shape[2] > 1 and attention_mask is None and (
        is_causal if is_causal is not None else getattr(module, "is_causal", True)
    )
    output = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=causal,
        enable_gqa=query.shape[1] != key.shape[1],
    )  # fmt: skip
    return output.transpose(1, 2).contiguous(), None


def load_model(path: str, dtype: torch.dtype) -> Any:
    """The transformers causal LM the server generates with: `path`'s weights in `dtype`, in eval mode,
    attending with `grouped_query_sdpa` (registered here, with `sdpa`'s masks)."""
    from transformers import AutoModelForCausalLM

    AttentionInterface.register(ATTENTION, grouped_query_sdpa)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation=ATTENTION).eval()


class SampledLogProbs(LogitsProcessor):
    """Sampling warpers (temperature, top-k, top-p) that also record each sampled token's log-prob
    under softmax(logits / temperature), the quantity verl's actor computes.

    `generate`'s own `output_logits` keeps every step's full logits (steps x batch x vocabulary:
    3.7 GB for 24 sequences of 256 tokens of a 152k-token vocabulary); this keeps one step's
    log-softmax and reads the token sampled from it at the next step, from `input_ids`.
    It runs last among `generate`'s processors, so `generate` must be given no warpers of its own.
    """

    def __init__(self, temperature: float, top_p: float, top_k: int) -> None:
        self.temperature = temperature
        self.warpers = LogitsProcessorList()
        if temperature != 1.0:
            self.warpers.append(TemperatureLogitsWarper(temperature))
        if top_k > 0:
            self.warpers.append(TopKLogitsWarper(top_k))
        if top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p))
        self.previous: torch.Tensor | None = None
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.previous is not None:
            self.steps.append(self.previous.gather(-1, input_ids[:, -1:]))
        self.previous = torch.log_softmax(scores.float() / self.temperature, -1)
        return self.warpers(input_ids, scores)

    def log_probs(self, sampled: torch.Tensor) -> torch.Tensor:
        """(batch, steps) log-probs of `sampled` (the generated tokens, batch x steps)."""
        steps = self.steps + ([self.previous.gather(-1, sampled[:, -1:])] if self.previous is not None else [])
        return torch.cat(steps, 1) if steps else sampled.new_zeros(sampled.shape, dtype=torch.float32)


def _server_name(replica_rank: int, suffix: str = "") -> str:
    return f"{NAME}_server_{replica_rank}_0{suffix}"


def release_freed_memory() -> None:
    """Hand freed heap pages back to the OS. glibc keeps them by default, per thread arena, so a
    server whose batches run on several threads would hold each thread's largest batch for good."""
    if LIBC is not None:
        LIBC.malloc_trim(0)


@torch.no_grad()
def generate_batch(
    model: Any, prompts: list[list[int]], params: dict[str, Any], eos_token_ids: set[int], pad_token_id: int
) -> list[tuple[list[int], list[float] | None]]:
    """Sample one response per prompt (token ids) in one left-padded `generate` call, with the
    server's `params` (temperature, top_p, top_k, repetition_penalty, max_tokens, logprobs); each
    response ends at (and includes) its first end-of-sequence token. Returns (tokens, log-probs or
    None) per prompt; temperature 0 is greedy decoding (log-probs at temperature 1)."""
    width = max(map(len, prompts))
    input_ids = torch.tensor([[pad_token_id] * (width - len(p)) + p for p in prompts])
    attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    sample = params["temperature"] > 0
    recorder = SampledLogProbs(
        params["temperature"] if sample else 1.0, params["top_p"] if sample else 1.0, params["top_k"] if sample else -1
    )
    # A whole GenerationConfig, not keyword overrides: the model's own sampling defaults (e.g. a
    # checkpoint's top_k=20, transformers' top_k=50) must not warp the policy's distribution.
    generation = GenerationConfig(
        do_sample=sample,
        temperature=1.0,  # the recorder warps: it must see the raw logits first
        top_p=1.0,
        top_k=0,
        repetition_penalty=params["repetition_penalty"],
        max_new_tokens=params["max_tokens"],
        eos_token_id=sorted(eos_token_ids),
        pad_token_id=pad_token_id,
        return_dict_in_generate=True,
    )
    output = model.generate(
        input_ids=input_ids,
        attention_mask=attention_mask,
        generation_config=generation,
        logits_processor=LogitsProcessorList([recorder]),
    )
    sampled = output.sequences[:, width:]
    token_log_probs = recorder.log_probs(sampled).tolist() if params["logprobs"] else None
    results = []
    for row, tokens in enumerate(sampled.tolist()):
        end = next((i + 1 for i, token in enumerate(tokens) if token in eos_token_ids), len(tokens))
        results.append((tokens[:end], token_log_probs[row][:end] if token_log_probs is not None else None))
    return results


class HFRolloutServer:
    """A transformers model answering verl's `generate` calls, batched (a Ray actor; see module doc)."""

    def __init__(self, config: RolloutConfig, model_config: HFModelConfig | DictConfig, replica_rank: int) -> None:
        model_config = omega_conf_to_dataclass(model_config, HFModelConfig)
        torch.set_num_threads(len(os.sched_getaffinity(0)))  # Ray sets OMP_NUM_THREADS=1 in actors
        self.config = config
        self.replica_rank = replica_rank
        self.dtype = getattr(torch, config.dtype)
        self.model = load_model(model_config.local_path, self.dtype)
        generation = self.model.generation_config
        eos = generation.eos_token_id
        self.eos_token_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if not self.eos_token_ids:
            raise ValueError(f"{model_config.local_path}: the generation config names no eos_token_id")
        self.pad_token_id = generation.pad_token_id if generation.pad_token_id is not None else min(self.eos_token_ids)
        self.pending: list[tuple[list[int], dict[str, Any], asyncio.Future]] = []
        self.batcher: asyncio.Task | None = None
        self.global_steps: int | None = None
        # Parameters (by identity: a tied lm_head is the embedding) released by `sleep` and not sent
        # back since: generation refuses to run on them.
        self.released: dict[int, tuple[str, torch.Size]] = {}

    async def generate(
        self,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        request_id: str,
        image_data: Any = None,
        video_data: Any = None,
        audio_data: Any = None,
        **_: Any,
    ) -> TokenOutput:
        """One response to `prompt_ids` (token ids), sampled with verl's `sampling_params`."""
        if image_data is not None or video_data is not None or audio_data is not None:
            raise NotImplementedError("the hf rollout is text-only")
        budget = self.config.prompt_length + self.config.response_length - len(prompt_ids)
        max_tokens = min(sampling_params.get("max_tokens", self.config.response_length), self.config.response_length)
        params = {
            "temperature": float(sampling_params.get("temperature", 1.0)),
            "top_p": float(sampling_params.get("top_p", 1.0)),
            "top_k": int(sampling_params.get("top_k", -1)),
            "repetition_penalty": float(sampling_params.get("repetition_penalty", 1.0)),
            "max_tokens": max(1, min(max_tokens, budget)),
            "logprobs": bool(sampling_params.get("logprobs")),
        }
        future = asyncio.get_running_loop().create_future()
        self.pending.append((list(prompt_ids), params, future))
        if self.batcher is None or self.batcher.done():
            self.batcher = asyncio.create_task(self._run_batches())
        token_ids, log_probs = await future
        return TokenOutput(
            token_ids=token_ids,
            log_probs=log_probs,
            stop_reason="completed",
            extra_fields={"global_steps": self.global_steps},
        )

    async def _run_batches(self) -> None:
        await asyncio.sleep(BATCH_WINDOW_S)
        while self.pending:
            params = self.pending[0][1]
            batch = [request for request in self.pending if request[1] == params][: self.config.max_num_seqs]
            taken = {id(request) for request in batch}
            self.pending = [request for request in self.pending if id(request) not in taken]
            try:
                results = await asyncio.to_thread(self._generate_batch, [prompt for prompt, _, _ in batch], params)
            except Exception as error:  # every waiting request learns why
                for _, _, future in batch:
                    future.set_exception(error)
                continue
            for (_, _, future), result in zip(batch, results):
                future.set_result(result)

    def _generate_batch(
        self, prompts: list[list[int]], params: dict[str, Any]
    ) -> list[tuple[list[int], list[float] | None]]:
        if self.released:
            names = sorted(name for name, _ in self.released.values())
            raise RuntimeError(
                f"the hf rollout's weights were released (sleep) and {len(names)} were not sent back "
                f"before generation, e.g. {names[:3]}"
            )
        try:
            return generate_batch(self.model, prompts, params, self.eos_token_ids, self.pad_token_id)
        finally:
            release_freed_memory()

    async def load_weights(self, named_tensors: list[tuple[str, torch.Tensor]], global_steps: int | None) -> None:
        """Replace some of the model's weights by the actor's (HF parameter names); unknown names are
        an error. `global_steps` comes with the last bucket of an update (None before it)."""
        parameters = dict(self.model.named_parameters(remove_duplicate=False))  # tied lm_head too
        unknown = [name for name, _ in named_tensors if name not in parameters]
        if unknown:
            raise KeyError(f"the hf rollout's model has no parameters named {unknown[:5]}")
        with torch.no_grad():
            for name, tensor in named_tensors:
                parameters[name].copy_(tensor)
                self.released.pop(id(parameters[name]), None)
        if global_steps is not None:
            self.global_steps = global_steps
        release_freed_memory()

    async def sleep(self) -> None:
        """With `free_cache_engine`, free the weights between generation phases (verl calls this after
        each step's generation; the actor's update and checkpoint save are the run's memory peak) and
        keep their shapes: verl sends every weight back before the next generation (`load_weights`
        after `wake_up`)."""
        if not self.config.free_cache_engine:
            return
        for name, parameter in self.model.named_parameters():
            if parameter.numel():  # not released yet, or room made for it since
                self.released[id(parameter)] = (name, parameter.shape)
                parameter.data = torch.empty(0, dtype=parameter.dtype)
        release_freed_memory()

    async def wake_up(self, tags: list[str] | None = None) -> None:
        """Room for the released weights (`tags` None or naming "weights"); their values arrive by
        `load_weights`. There is no KV cache between batches to resume."""
        if tags is not None and "weights" not in tags:
            return
        for _, parameter in self.model.named_parameters():
            if id(parameter) in self.released and parameter.numel() == 0:
                parameter.data = torch.empty(self.released[id(parameter)][1], dtype=parameter.dtype)

    # The rest of the server interface verl's replicas and trainer call: there is no KV cache between
    # batches and no partial request to abort or resume.
    async def set_global_steps(self, global_steps: int) -> None:
        self.global_steps = global_steps

    async def clear_kv_cache(self) -> None:
        pass

    async def release_kv_cache(self) -> None:
        pass

    async def resume_kv_cache(self) -> None:
        pass

    async def abort_all_requests(self, reject_request: bool = False) -> dict[str, Any]:
        return {"aborted_count": 0, "request_ids": []}  # running batches finish; nothing is partial

    async def resume_generation(self) -> None:
        pass

    async def start_profile(self, **kwargs: Any) -> None:
        pass

    async def stop_profile(self) -> None:
        pass


class HFReplica(RolloutReplica):
    """One `HFRolloutServer` per replica, on the node of the replica's trainer process."""

    async def launch_servers(self) -> None:
        if self.world_size != 1:
            raise ValueError(
                "rollout.name=hf runs one process per replica: set actor_rollout_ref.rollout."
                "tensor_model_parallel_size, data_parallel_size and pipeline_model_parallel_size to 1 "
                f"(their product is {self.world_size})"
            )
        if self.workers:
            node_id = await self.workers[0].__ray_call__.remote(lambda worker: ray.get_runtime_context().get_node_id())
        else:
            node_id = ray.get_runtime_context().get_node_id()
        role = "_reward" if self.is_reward_model else "_teacher" if self.is_teacher_model else ""
        server = (
            ray.remote(HFRolloutServer)
            .options(
                name=_server_name(self.replica_rank, f"{role}{self.name_suffix}"),
                num_cpus=0,  # the trainer's processes hold the CPU slots; generation and training alternate
                max_concurrency=self.max_concurrency,
                scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(node_id, soft=False),
            )
            .remote(config=self.config, model_config=self.model_config, replica_rank=self.replica_rank)
        )
        await server.set_global_steps.remote(None)  # wait until the model is loaded
        self.servers = [server]
        self._server_handle = server
        self._server_address = None  # Ray calls only: no OpenAI-compatible HTTP endpoint


class HFServerAdapter(BaseRollout):
    """The trainer side of the hf rollout: sends the actor's weights to its replica's server."""

    def __init__(
        self, config: RolloutConfig, model_config: HFModelConfig, device_mesh: Any, replica_rank: int = -1
    ) -> None:
        super().__init__(config, model_config, device_mesh)
        self.replica_rank = int(os.environ.get("RANK", 0)) if replica_rank == -1 else replica_rank
        self.server: ray.actor.ActorHandle | None = None

    async def resume(self, tags: list[str]) -> None:
        if self.config.free_cache_engine:
            await self._server().wake_up.remote(tags=tags)

    async def release(self) -> None:
        if self.config.free_cache_engine:
            await self._server().sleep.remote()

    def _server(self) -> ray.actor.ActorHandle:
        if self.server is None:
            self.server = ray.get_actor(_server_name(self.replica_rank))
        return self.server

    @torch.no_grad()
    async def update_weights(
        self,
        weights: Generator[tuple[str, torch.Tensor], None, None],
        global_steps: int | None = None,
        wire_format: str = "named_tensors",
        peft_config: Any = None,
        **_: Any,
    ) -> None:
        if wire_format != "named_tensors":
            raise ValueError(f"the hf rollout takes wire_format='named_tensors', got {wire_format!r}")
        if peft_config is not None:
            raise NotImplementedError("the hf rollout does not serve LoRA adapters")
        dtype = getattr(torch, self.config.dtype)
        server = self._server()
        # Sent in buckets: a bucket passes through Ray's shared-memory object store, whose pages stay
        # resident once touched, so one 2 GiB message would hold 2 GiB there for the rest of the run.
        bucket, size = [], 0
        for name, tensor in weights:  # every rank consumes the generator: gathering is collective
            if hasattr(tensor, "full_tensor"):
                tensor = tensor.full_tensor()
            bucket.append((name, tensor.detach().to("cpu", dtype).clone()))
            size += bucket[-1][1].nbytes
            if size >= WEIGHT_BUCKET_BYTES:
                await server.load_weights.remote(bucket, None)
                bucket, size = [], 0
        await server.load_weights.remote(bucket, global_steps)


def register() -> None:
    """Make `actor_rollout_ref.rollout.name=hf` resolve to this module's replica and adapter."""
    RolloutReplicaRegistry.register(NAME, lambda: HFReplica)
    rollout_base._ROLLOUT_REGISTRY[(NAME, "async")] = f"{__name__}.HFServerAdapter"
