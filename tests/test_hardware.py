"""On CPU, vLLM and verl's trainer compute in bf16 only where the CPU has bf16 instructions
(recipe/rzero/hardware.py): without them bf16 runs on a slow fallback (benchmarks/README.md)."""

import pytest

from recipe.rzero import hardware
from recipe.rzero.hardware import cpu_bf16_instructions
from recipe.rzero.solver_service import SolverServiceConfig
from recipe.rzero.vllm_engine import EngineConfig, resolve_dtype
from tests.test_recipe_config import compose_recipe, compute_dtype


def test_the_bf16_instructions_are_read_from_the_cpus_flags(tmp_path):
    sapphire_rapids, epyc = tmp_path / "amx", tmp_path / "avx2"
    sapphire_rapids.write_text("flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile\n" * 2)
    epyc.write_text("flags\t\t: fpu sse2 avx2 fma avx512_bf16x\n")
    assert cpu_bf16_instructions(sapphire_rapids) == ["amx_bf16", "avx512_bf16"]
    assert cpu_bf16_instructions(epyc) == cpu_bf16_instructions(tmp_path / "no_such_file") == []


@pytest.mark.parametrize(("flags", "vllm", "verl"), [(["amx_bf16"], "bfloat16", "torch.bfloat16"),
                                                      ([], "float32", "torch.float32")])  # fmt: skip
def test_cpu_inference_and_training_compute_in_bf16_only_with_bf16_instructions(
    flags, vllm, verl, embedded_model, monkeypatch
):
    monkeypatch.setattr(hardware, "cpu_bf16_instructions", lambda: flags)
    assert resolve_dtype("auto", "cpu") == vllm
    assert SolverServiceConfig(model=embedded_model, device="cpu").dtype == vllm
    assert EngineConfig(model=embedded_model, device="cpu").dtype == vllm
    assert resolve_dtype("auto", "cuda") == "auto" and resolve_dtype("float16", "cpu") == "float16"
    for name in ("rzero_challenger", "rzero_solver"):
        cpu, gpu = compose_recipe(name, ["+device=cpu"]), compose_recipe(name, [])
        for config, dtype in ((cpu, verl), (gpu, "torch.bfloat16")):  # GPUs: verl's bf16
            roles = config.actor_rollout_ref
            assert compute_dtype(roles.actor.fsdp_config) == compute_dtype(roles.ref.fsdp_config) == dtype
