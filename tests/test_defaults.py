"""Each default is defined once (issue 15): an inference default in `recipe/rzero/inference_defaults.py`, the
p̂ band and the Challenger's reward settings (`ChallengerRewardSettings`) in `rzero_rewards/rewards.py`. A second
literal copy, or a training config that disagrees, fails here."""

from __future__ import annotations

import ast
import inspect
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from recipe.rzero import inference_defaults
from recipe.rzero.__main__ import main as rzero
from recipe.rzero.commands import composed_rows
from recipe.rzero.inference_defaults import MAX_TOKENS, P_HAT_BAND, SOLVER_SAMPLES, vllm_memory_share
from recipe.rzero.reward_fn import challenger_compute_score, challenger_reward_settings, solver_compute_score
from rzero_rewards import CHALLENGER_REWARD_DEFAULTS, ChallengerRewardSettings
from tests.helpers import ROOT
from tests.test_recipe_config import compose_recipe

# Parameter and field names whose defaults have a home; anywhere else they must name it, not repeat its value.
INFERENCE = {"samples", "max_tokens", "solver_max_tokens", "low", "high", "gpu_memory_utilization"}
CHALLENGER_REWARD = {"uncertainty_scale", "format_penalty", "repetition_penalty", "repetition_threshold",
                     "penalty_threshold", "clip"}  # fmt: skip
HOMES = {name: ROOT / "recipe" / "rzero" / "inference_defaults.py" for name in INFERENCE} | {
    name: ROOT / "rzero_rewards" / "rewards.py" for name in CHALLENGER_REWARD
}


def _literal_defaults(path: Path) -> list[str]:
    """`file:line name=value` for every governed parameter or dataclass field of `path` with a literal default,
    unless `path` is that name's home."""
    found = []

    def check(name: str, default: ast.expr | None, line: int) -> None:
        if isinstance(default, ast.Call) and getattr(default.func, "id", None) == "field":
            default = next((keyword.value for keyword in default.keywords if keyword.arg == "default"), None)
        governed = name in HOMES and path != HOMES[name]
        if governed and isinstance(default, ast.Constant) and default.value is not None:
            found.append(f"{path.relative_to(ROOT)}:{line} {name}={default.value!r}")

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = node.args.posonlyargs + node.args.args
            for argument, default in zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults):
                check(argument.arg, default, argument.lineno)
            for argument, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
                check(argument.arg, default, argument.lineno)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    check(statement.target.id, statement.value, statement.lineno)
    return found


def test_no_default_is_written_twice():
    files = [*(ROOT / "recipe" / "rzero").rglob("*.py"), *(ROOT / "rzero_rewards").rglob("*.py")]
    literals = [hit for path in sorted(files) for hit in _literal_defaults(path)]
    assert literals == [], "read these from their home (HOMES) instead:\n" + "\n".join(literals)


def test_the_check_finds_a_second_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    copy = tmp_path / "copy.py"
    copy.write_text(
        "@dataclass\nclass C:\n    samples: int = 10\n    max_tokens: int = field(default=4096)\n"
        "    seed: int = 0\n    low: float = BAND[0]\n"
        "def f(a, high=0.7, *, solver_max_tokens=4096, gpu_memory_utilization=None): ...\n"
    )
    assert _literal_defaults(copy) == [
        "copy.py:3 samples=10", "copy.py:4 max_tokens=4096", "copy.py:7 high=0.7", "copy.py:7 solver_max_tokens=4096",
    ]  # fmt: skip


def _defaults(function) -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize(
    ("config_name", "function"),
    [("rzero_challenger", challenger_compute_score), ("rzero_solver", solver_compute_score)],
)
def test_the_reward_kwargs_in_the_yaml_are_the_reward_functions_defaults(config_name, function):
    """The yaml lists the reward function's keyword arguments so that a run script can override them;
    each listed value must be the function's own default (for the Challenger's reward settings, which
    `challenger_compute_score` takes as `**reward_settings`: `ChallengerRewardSettings`'), else the yaml
    would silently change it."""
    config = compose_recipe(config_name, [])
    kwargs = dict(config.reward.custom_reward_function.get("reward_kwargs") or {})
    defaults = _defaults(function)
    if function is challenger_compute_score:
        defaults |= asdict(CHALLENGER_REWARD_DEFAULTS)
    assert set(kwargs) <= set(defaults), set(kwargs) - set(defaults)
    assert {key: defaults[key] for key in kwargs} == kwargs
    assert config.data.max_response_length == MAX_TOKENS  # the longest response, in training as in the stages


def test_the_challengers_reward_settings_have_one_home_in_the_config():
    """Every setting is in the yaml's reward_kwargs (so a run overrides it there, and verl's reward function and
    both engines' batch terms see the same value); no other part of the config holds one."""
    config = compose_recipe("rzero_challenger", [])
    kwargs = config.reward.custom_reward_function.reward_kwargs
    assert {setting.name for setting in fields(ChallengerRewardSettings)} <= set(kwargs)
    assert challenger_reward_settings(config) == CHALLENGER_REWARD_DEFAULTS
    assert set(config.rzero) == {"role"}
    ablation = compose_recipe(
        "rzero_challenger",
        [f"reward.custom_reward_function.reward_kwargs.{key}={value}" for key, value in
         {"uncertainty_scale": "min", "format_penalty": -1, "repetition_penalty": False, "repetition_threshold": 0.3,
          "clip": False}.items()],
    )  # fmt: skip
    assert challenger_reward_settings(ablation) == ChallengerRewardSettings("min", -1, False, 0.3, False)


def test_the_reward_primitives_read_the_challengers_defaults():
    """The library functions' own defaults (parameters with generic names, not governed above) are the settings'."""
    from rzero_rewards import challenger_reward, repetition_penalty, score_challenger_batch, uncertainty_reward
    from rzero_rewards.repetition import cluster_labels

    settings = CHALLENGER_REWARD_DEFAULTS
    assert _defaults(uncertainty_reward) == {"scale": settings.uncertainty_scale}
    assert {key: _defaults(challenger_reward)[key] for key in ("scale", "format_penalty", "clip")} == {
        "scale": settings.uncertainty_scale, "format_penalty": settings.format_penalty, "clip": settings.clip,
    }  # fmt: skip
    assert _defaults(repetition_penalty) == _defaults(cluster_labels) == {"threshold": settings.repetition_threshold}
    assert {key: _defaults(score_challenger_batch)[key] for key in ("penalty_threshold", "clip", "format_penalty")} == {
        "penalty_threshold": settings.repetition_threshold, "clip": settings.clip,
        "format_penalty": settings.format_penalty,
    }  # fmt: skip


def test_the_clis_and_the_client_read_the_defaults():
    from recipe.rzero.cli import build_parser
    from recipe.rzero.evaluation.runner import EvaluateConfig
    from recipe.rzero.solver_client import SolverClientConfig
    from recipe.rzero.stages.generate import GenerateConfig
    from recipe.rzero.stages.label import LabelConfig
    from rzero_rewards import in_band

    label = build_parser(LabelConfig).parse_args(["--model", "m", "--output", "o", "--questions", "q"])
    assert (label.samples, label.max_tokens, (label.low, label.high)) == (SOLVER_SAMPLES, MAX_TOKENS, P_HAT_BAND)
    for config in (GenerateConfig, EvaluateConfig):
        required = ["--model", "m", "--output" if config is GenerateConfig else "--output-dir", "o"]
        assert build_parser(config).parse_args(required).max_tokens == MAX_TOKENS
    client = SolverClientConfig()
    assert (client.samples, client.max_tokens) == (SOLVER_SAMPLES, MAX_TOKENS)
    assert _defaults(in_band) == {"low": P_HAT_BAND[0], "high": P_HAT_BAND[1]}


def test_the_vllm_memory_share():
    """As before the move: 0.85 per GPU engine; 0.25 on CPU, split over the engines that share the memory."""
    assert inference_defaults.VLLM_MEMORY_SHARE == {"cpu": 0.25, "cuda": 0.85}
    assert vllm_memory_share("cuda", 4) == 0.85 and vllm_memory_share("cpu", 2) == 0.125


def test_challenger_prompt_rows_follow_the_composed_config(tmp_path):
    """The loop no longer computes batch × steps by hand: the prompts stage composes the training's config."""
    import pyarrow.parquet as pq

    output = tmp_path / "prompts.parquet"
    rzero(["challenger-prompts", "--output", str(output), "--config-name", "rzero_challenger",
           "trainer.total_training_steps=3", "data.train_batch_size=4", "+device=cpu"])  # fmt: skip
    assert pq.read_table(output).num_rows == 12
    assert composed_rows("rzero_challenger", []) == 128 * 5  # the paper's batch and steps
    rzero(["challenger-prompts", "--output", str(output), "--rows", "7", "--format-example"])
    assert pq.read_table(output).num_rows == 7
    with pytest.raises(SystemExit):  # overrides need a config
        rzero(["challenger-prompts", "--output", str(output), "--rows", "7", "data.train_batch_size=4"])


@pytest.mark.parametrize(("script", "rows"), [("run_qwen3_4b.sh", 128 * 5), ("run_smollm2_cpu.sh", 4 * 3)])
def test_the_loop_derives_the_prompt_rows_from_the_challenger_training(script, rows, tmp_path):
    """The prompts stage of a planned run composes to the batch × steps of the Challenger training it feeds."""
    from tests.test_recipe_config import planned_commands

    commands = planned_commands(script, tmp_path)
    prompts = next(c for c in commands if c[1:4] == ["-m", "recipe.rzero", "challenger-prompts"])
    training = next(c for c in commands if "--config-name" in c and "rzero_challenger" in c and c is not prompts)
    position = prompts.index("--config-name")
    assert composed_rows(prompts[position + 1], prompts[position + 2 :]) == rows
    config = compose_recipe("rzero_challenger", training[training.index("--config-name") + 2 :])
    assert config.data.train_batch_size * config.trainer.total_training_steps == rows
