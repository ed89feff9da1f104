"""The embedded model's conversion and model-reference checks."""

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from recipe.rzero.models import END_OF_TURN, check_model_reference, prepare_embedded_model


def test_embedded_model_is_a_usable_chat_checkpoint(embedded_model):
    tokenizer = AutoTokenizer.from_pretrained(embedded_model)
    end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    assert tokenizer.eos_token == tokenizer.pad_token == END_OF_TURN  # the GGUF said <|im_start|>
    for name in ("config.json", "generation_config.json"):
        config = json.loads((Path(embedded_model) / name).read_text())
        assert config["eos_token_id"] == config["pad_token_id"] == end_id
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert chat.endswith("<|im_start|>assistant\n")
    assert (Path(embedded_model) / "model.safetensors").stat().st_size > 100_000_000


def test_second_preparation_reuses_the_checkpoint(embedded_model):
    before = (Path(embedded_model) / "model.safetensors").stat().st_mtime_ns
    assert str(prepare_embedded_model()) == embedded_model
    assert (Path(embedded_model) / "model.safetensors").stat().st_mtime_ns == before


def test_model_references(tmp_path, embedded_model):
    assert check_model_reference(embedded_model) == embedded_model
    assert check_model_reference("Qwen/Qwen3-4B-Base") == "Qwen/Qwen3-4B-Base"
    with pytest.raises(FileNotFoundError, match="without config.json"):
        check_model_reference(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="solver model '/no/such/dir'"):
        check_model_reference("/no/such/dir", "solver model")
