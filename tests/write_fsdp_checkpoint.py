"""Write a verl FSDP actor checkpoint of a Hugging Face model on CPU (gloo, world size 1, FSDP2).

    python tests/write_fsdp_checkpoint.py MODEL_DIR OUTPUT_ACTOR_DIR

This is the layout verl's trainer saves at `global_step_N/actor` (`FSDPCheckpointManager`), made
with the same code, so that `python -m verl.model_merger merge --backend fsdp` can be tested here.
"""

import os
import sys

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from transformers import AutoModelForCausalLM, AutoTokenizer
from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager


def main(model_dir: str, actor_dir: str) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
    os.environ.setdefault("MASTER_PORT", "29533")
    dist.init_process_group("gloo", rank=0, world_size=1)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    fully_shard(model, mesh=init_device_mesh("cpu", (1,), mesh_dim_names=("fsdp",)))
    manager = FSDPCheckpointManager(
        model=model,
        optimizer=torch.optim.AdamW(model.parameters(), lr=1e-6),
        lr_scheduler=None,
        processing_class=AutoTokenizer.from_pretrained(model_dir),
        checkpoint_config={"save_contents": ["model", "optimizer", "extra"], "load_contents": ["model"]},
    )
    manager.save_checkpoint(actor_dir, global_step=1)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:3])
