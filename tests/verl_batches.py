"""Build real verl `DataProto` batches from chat prompts and response texts (the trainer's layout)."""

from __future__ import annotations

import numpy as np
import torch
from verl import DataProto


def make_batch(tokenizer, prompts: list[list[dict]], responses: list[str], non_tensor: dict[str, list]) -> DataProto:
    """Left-padded prompt ids, right-padded response ids (ending in eos), masks, non-tensor fields."""
    prompt_ids = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=True) for p in prompts]
    prompt_ids = [ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids for ids in prompt_ids]
    response_ids = [tokenizer(r, add_special_tokens=False).input_ids + [tokenizer.eos_token_id] for r in responses]
    prompt_length = max(map(len, prompt_ids))
    response_length = max(map(len, response_ids))
    pad = tokenizer.pad_token_id
    prompt_tensor = torch.tensor([[pad] * (prompt_length - len(ids)) + ids for ids in prompt_ids])
    response_tensor = torch.tensor([ids + [pad] * (response_length - len(ids)) for ids in response_ids])
    attention = torch.tensor(
        [[0] * (prompt_length - len(p)) + [1] * (len(p) + len(r)) + [0] * (response_length - len(r))
         for p, r in zip(prompt_ids, response_ids)]
    )  # fmt: skip
    position = torch.clamp(attention.cumsum(-1) - 1, min=0)
    fields = {key: np.array(values, dtype=object) for key, values in non_tensor.items()}
    return DataProto.from_single_dict(
        {
            "prompts": prompt_tensor,
            "responses": response_tensor,
            "input_ids": torch.cat([prompt_tensor, response_tensor], dim=1),
            "attention_mask": attention,
            "position_ids": position,
            "response_mask": attention[:, prompt_length:],
            **fields,
        }
    )
