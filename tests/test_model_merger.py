"""A verl FSDP checkpoint of the embedded model round-trips through `python -m verl.model_merger`."""

import socket
import subprocess
import sys

import torch
from safetensors.torch import load_file

from tests.helpers import ROOT


def test_fsdp_checkpoint_merges_to_the_same_weights(embedded_model, tmp_path):
    actor = tmp_path / "global_step_1" / "actor"
    merged = tmp_path / "merged"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    env = {"MASTER_PORT": port, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    script = ROOT / "tests" / "write_fsdp_checkpoint.py"
    subprocess.run([sys.executable, script, embedded_model, actor], check=True, env=env, timeout=600)
    assert (actor / "fsdp_config.json").is_file() and (actor / "model_world_size_1_rank_0.pt").is_file()
    command = [sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp",
               "--local_dir", str(actor), "--target_dir", str(merged)]  # fmt: skip
    subprocess.run(command, check=True, env=env, timeout=600)
    original = load_file(f"{embedded_model}/model.safetensors")
    result = load_file(merged / "model.safetensors")
    assert set(result) <= set(original) and len(result) >= len(original) - 1  # tied lm_head may be dropped
    for name, tensor in result.items():
        assert torch.equal(tensor, original[name].to(tensor.dtype)), name
    assert (merged / "tokenizer.json").is_file() and (merged / "config.json").is_file()
