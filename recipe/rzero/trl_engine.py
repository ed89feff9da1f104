"""The `trl` engine: one R-Zero role trained with TRL's `GRPOTrainer`, from the recipe's own config.

For single machines (CPU included), where verl's trainer cannot run. It reads the same composed
Hydra config as `main_rzero` (`rzero_challenger.yaml` / `rzero_solver.yaml` plus the same
overrides), maps verl's hyper-parameter names onto `GRPOConfig` (`grpo_config`), trains on the same
parquet files, and scores with the same reward functions (`reward_fn.py`, plus
`score_challenger_rollouts` for the Challenger's batch terms, as under verl), logging the same
`rzero/*` step metrics (`step_reward_metrics`). No RL loop of its own.

Differences from verl that the mapping cannot remove: TRL generates with transformers (no vLLM on
CPU), uses the k3 KL estimator (verl's `low_var_kl` is k3 clamped to [−10, 10]) and does not
truncate prompts (`data.max_prompt_length` is checked, not applied).
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rzero_rewards import score_challenger_rollouts, step_reward_metrics

from . import reward_fn
from .reward_fn import challenger_reward_settings

REWARD_MODULE = "pkg://recipe.rzero.reward_fn"

# verl's loss aggregation → TRL's loss type with the same normalisation.
LOSS_TYPES = {"token-mean": "dapo", "seq-mean-token-mean": "grpo", "seq-mean-token-sum-norm": "dr_grpo"}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"the trl engine cannot honour this config: {message}")


def batch_sizes(config: DictConfig) -> dict[str, int]:
    """TRL's batch arguments for verl's `train_batch_size` / `ppo_mini_batch_size` / micro batch.

    One verl step = `train_batch_size` prompts × `rollout.n` completions, split into optimizer
    updates of `ppo_mini_batch_size` prompts, each accumulated over micro batches of
    `ppo_micro_batch_size_per_gpu` completions.
    """
    actor = config.actor_rollout_ref.actor
    group = config.actor_rollout_ref.rollout.n
    prompts, mini = config.data.train_batch_size, actor.ppo_mini_batch_size
    _require(prompts % mini == 0, f"data.train_batch_size={prompts} is not a multiple of ppo_mini_batch_size={mini}")
    micro = actor.ppo_micro_batch_size_per_gpu or mini * group
    _require(
        (mini * group) % micro == 0,
        f"ppo_mini_batch_size × rollout.n = {mini * group} completions is not a multiple of "
        f"ppo_micro_batch_size_per_gpu={micro}",
    )
    accumulation = mini * group // micro
    updates_per_step = prompts // mini
    return {
        "per_device_train_batch_size": micro,
        "gradient_accumulation_steps": accumulation,
        "steps_per_generation": accumulation * updates_per_step,
        "updates_per_step": updates_per_step,
    }


def grpo_config(config: DictConfig) -> Any:
    """A `trl.GRPOConfig` equal in meaning to the verl settings of `config` (errors name the key)."""
    import torch
    from trl import GRPOConfig

    actor = config.actor_rollout_ref.actor
    rollout = config.actor_rollout_ref.rollout
    trainer = config.trainer
    _require(not config.reward.reward_model.enable, "reward.reward_model.enable=true (serve the Solver with "
             "rzero serve-solver and pass reward.custom_reward_function.reward_kwargs.solver_urls)")  # fmt: skip
    _require(config.algorithm.adv_estimator == "grpo", f"algorithm.adv_estimator={config.algorithm.adv_estimator}")
    _require(not config.algorithm.use_kl_in_reward, "algorithm.use_kl_in_reward=true (TRL has the KL in the loss)")
    _require(actor.loss_agg_mode in LOSS_TYPES, f"actor.loss_agg_mode={actor.loss_agg_mode}")
    _require(
        not actor.use_kl_loss or actor.kl_loss_type in ("low_var_kl", "k3"),
        f"actor.kl_loss_type={actor.kl_loss_type} (TRL's KL is k3)",
    )
    scheduler = actor.optim.lr_scheduler_type
    _require(scheduler in ("constant", "cosine"), f"optim.lr_scheduler_type={scheduler}")
    sizes = batch_sizes(config)
    steps = trainer.total_training_steps
    _require(steps is not None and steps > 0, "trainer.total_training_steps must be set")
    max_steps = steps * sizes["updates_per_step"]
    warmup = actor.optim.lr_warmup_steps  # in verl steps; negative: use the ratio
    if warmup is None or warmup < 0:
        warmup_steps = round(actor.optim.lr_warmup_steps_ratio * max_steps)
    else:
        warmup_steps = warmup * sizes["updates_per_step"]
    save_every = trainer.save_freq if trainer.save_freq and trainer.save_freq > 0 else steps
    logger = list(trainer.logger)
    on_gpu = torch.cuda.is_available()
    return GRPOConfig(
        output_dir=str(trainer.default_local_dir),
        run_name=f"{trainer.project_name}/{trainer.experiment_name}",
        report_to=[name for name in logger if name in ("tensorboard", "wandb")] or "none",
        logging_steps=1,
        # One verl step is `updates_per_step` TRL optimizer steps.
        max_steps=max_steps,
        save_strategy="steps",
        save_steps=save_every * sizes["updates_per_step"],
        save_total_limit=1,
        seed=actor.data_loader_seed,
        shuffle_dataset=bool(config.data.shuffle),
        per_device_train_batch_size=sizes["per_device_train_batch_size"],
        gradient_accumulation_steps=sizes["gradient_accumulation_steps"],
        steps_per_generation=sizes["steps_per_generation"],
        num_generations=rollout.n,
        num_iterations=actor.ppo_epochs,
        max_completion_length=config.data.max_response_length,
        temperature=rollout.temperature,
        top_p=rollout.top_p,
        top_k=max(0, rollout.top_k),
        learning_rate=actor.optim.lr,
        lr_scheduler_type=actor.optim.lr_scheduler_type,
        warmup_steps=warmup_steps,
        weight_decay=actor.optim.weight_decay,
        max_grad_norm=actor.grad_clip,
        beta=actor.kl_loss_coef if actor.use_kl_loss else 0.0,
        epsilon=actor.clip_ratio_low,
        epsilon_high=actor.clip_ratio_high,
        loss_type=LOSS_TYPES[actor.loss_agg_mode],
        scale_rewards="group" if config.algorithm.norm_adv_by_std_in_grpo else "none",
        gradient_checkpointing=bool(config.actor_rollout_ref.model.enable_gradient_checkpointing),
        # fp32 master weights as verl's FSDP actor; bf16 autocast on GPUs.
        model_init_kwargs={"dtype": "float32"},
        bf16=on_gpu,
        use_cpu=not on_gpu,
        remove_unused_columns=False,
        log_completions=False,
        dataloader_num_workers=0,
    )


def configured_reward(config: DictConfig) -> Callable[..., Any]:
    """The per-rollout reward function `config` names (`reward.custom_reward_function.name` in
    `recipe/rzero/reward_fn.py`, as verl's reward loop calls it), e.g. `challenger_compute_score` or,
    with `TASK=code`, `code_challenger_compute_score`."""
    function = config.reward.custom_reward_function
    _require(function.path == REWARD_MODULE, f"reward.custom_reward_function.path={function.path}, not {REWARD_MODULE}")
    _require(hasattr(reward_fn, function.name), f"reward.custom_reward_function.name={function.name}")
    return getattr(reward_fn, function.name)


def challenger_reward_function(config: DictConfig) -> Callable[..., Any]:
    """TRL reward function of the Challenger: the configured reward per rollout (`configured_reward`),
    then the batch terms."""
    compute_score = configured_reward(config)
    reward_kwargs = OmegaConf.to_container(config.reward.custom_reward_function.reward_kwargs, resolve=True)
    settings = challenger_reward_settings(config)
    group_size = config.actor_rollout_ref.rollout.n

    async def challenger(
        completions: list, data_source: list, log_metric: Callable, extra_info: list | None = None, **_: Any
    ) -> list[float]:
        texts = [_text(completion) for completion in completions]
        infos = extra_info or [None] * len(texts)  # TRL passes the parquet's columns: extra_info is one
        reports = await asyncio.gather(
            *(
                compute_score(source, text, None, info, **reward_kwargs)
                for source, text, info in zip(data_source, texts, infos)
            )
        )
        scored = score_challenger_rollouts({key: [report[key] for report in reports] for key in reports[0]}, settings)
        groups = _groups(len(reports), group_size)
        _log_metrics(log_metric, scored.metrics | step_reward_metrics(scored.rewards, groups))
        return scored.rewards

    return challenger


def solver_reward_function(config: DictConfig) -> Callable[..., list[float]]:
    """TRL reward function of the Solver: the configured reward (`configured_reward`: `solver_compute_score`
    against each row's pseudo-label, or with `TASK=code` `code_solver_compute_score` against its task)."""
    compute_score = configured_reward(config)
    reward_kwargs = OmegaConf.to_container(config.reward.custom_reward_function.reward_kwargs, resolve=True)
    group_size = config.actor_rollout_ref.rollout.n

    def solver(
        completions: list,
        data_source: list,
        reward_model: list,
        log_metric: Callable,
        extra_info: list | None = None,
        **_: Any,
    ) -> list[float]:
        infos = extra_info or [None] * len(completions)
        rewards = [
            compute_score(source, _text(completion), row["ground_truth"], info, **reward_kwargs)["score"]
            for source, completion, row, info in zip(data_source, completions, reward_model, infos)
        ]
        _log_metrics(log_metric, step_reward_metrics(rewards, _groups(len(rewards), group_size)))
        return rewards

    return solver


def _groups(rollouts: int, group_size: int) -> list[int]:
    """The prompt group of each rollout of a TRL generation batch, which holds each prompt's
    `num_generations` (`actor_rollout_ref.rollout.n`) rollouts consecutively; in one process, as
    this engine runs, the reward function sees whole groups, as TRL's own `frac_reward_zero_std`."""
    return [index // group_size for index in range(rollouts)]


def _log_metrics(log_metric: Callable[[str, float], None], metrics: dict[str, float]) -> None:
    """Log through TRL's `log_metric` (averaged over each logging step, like TRL's own metrics)."""
    for name, value in metrics.items():
        log_metric(name, value)


def _check_rows(files: list[str]) -> None:
    """Fail with the file names when the training files are missing or hold no row."""
    import pyarrow.parquet as pq

    missing = [name for name in files if not Path(name).is_file()]
    if missing:
        raise FileNotFoundError(f"training file(s) not found: {', '.join(missing)}")
    if sum(pq.ParquetFile(name).metadata.num_rows for name in files) == 0:
        raise ValueError(f"no training rows in {', '.join(files)} (did the label stage keep any question?)")


def _text(completion: Any) -> str:
    """The text of a TRL completion (a list of chat messages, or a string)."""
    return completion[-1]["content"] if isinstance(completion, list) else completion


def train(config: DictConfig, target: Path) -> None:
    """Train the role of `config` and save the final HF model to `target` (`training.train_role` makes
    it `<default_local_dir>/model`).

    Resumable: checkpoints every `trainer.save_freq` steps and, with `trainer.resume_mode=auto`,
    continues from the newest one.
    """
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint
    from trl import GRPOTrainer

    output_dir = Path(config.trainer.default_local_dir)
    arguments = grpo_config(config)
    # transformers' TensorBoard callback reads its directory from the environment (as verl's TENSORBOARD_DIR).
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(output_dir / "tensorboard")
    files = list(config.data.train_files) if OmegaConf.is_list(config.data.train_files) else [config.data.train_files]
    _check_rows(files)
    dataset = load_dataset("parquet", data_files=files, split="train")
    if config.data.train_max_samples and config.data.train_max_samples > 0:
        dataset = dataset.select(range(min(len(dataset), config.data.train_max_samples)))
    model_path = config.actor_rollout_ref.model.path
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    longest = max(len(tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True)) for row in dataset)
    _require(longest <= config.data.max_prompt_length, f"a prompt has {longest} tokens > data.max_prompt_length")
    # Enough rows for every step: verl cycles through a small kept set for `total_epochs`.
    rows_needed = config.data.train_batch_size * config.trainer.total_training_steps
    if len(dataset) < rows_needed:
        from datasets import concatenate_datasets

        dataset = concatenate_datasets([dataset] * math.ceil(rows_needed / len(dataset)))
    role = config.rzero.role
    reward = challenger_reward_function(config) if role == "challenger" else solver_reward_function(config)
    trainer = GRPOTrainer(
        model=model_path, reward_funcs=[reward], args=arguments, train_dataset=dataset, processing_class=tokenizer
    )
    resume = config.trainer.resume_mode == "auto" and output_dir.is_dir() and get_last_checkpoint(str(output_dir))
    trainer.train(resume_from_checkpoint=resume or None)
    trainer.save_model(str(target))
