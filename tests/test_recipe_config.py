"""Compose the recipe's configs against the installed verl's config tree, as the launcher does."""


import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from recipe.rzero.config_checks import check_rzero_config
from recipe.rzero.reward_fn import challenger_reward_settings
from tests.helpers import ROOT

CONFIG_DIR = str(ROOT / "recipe" / "rzero" / "config")


def compose_recipe(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose(config_name=name, overrides=overrides)


def validate_with_verl(config) -> None:
    """verl's own checks: every section converts to its dataclass, batch sizes are consistent."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    OmegaConf.resolve(config)
    assert not OmegaConf.missing_keys(config), OmegaConf.missing_keys(config)
    for section in (config.actor_rollout_ref.actor, config.actor_rollout_ref.rollout, config.algorithm):
        omega_conf_to_dataclass(section)
    validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))


def compute_dtype(fsdp_config) -> str:
    """The dtype verl's FSDP engine computes in for this `fsdp_config`: its `mixed_precision.param_dtype`,
    bf16 when unset (verl/workers/engine/fsdp/transformer_impl.py, `_build_fsdp_module`)."""
    from verl.utils.config import omega_conf_to_dataclass
    from verl.utils.torch_dtypes import PrecisionType

    precision = omega_conf_to_dataclass(fsdp_config).mixed_precision or {}
    return str(PrecisionType.to_dtype(precision.get("param_dtype", "bf16")))


def test_paper_defaults(tmp_path):
    challenger = compose_recipe("rzero_challenger", [])
    assert challenger.actor_rollout_ref.rollout.n == 4 and challenger.trainer.total_training_steps == 5
    assert challenger.reward.custom_reward_function.reward_kwargs.samples == 10
    solver = compose_recipe("rzero_solver", [])
    assert solver.actor_rollout_ref.rollout.n == 5 and solver.trainer.total_training_steps == 15
    for config in (challenger, solver):
        assert config.data.train_batch_size == 128 and config.actor_rollout_ref.actor.optim.lr == 1e-6
        assert config.actor_rollout_ref.actor.kl_loss_coef == 0.01
        assert config.actor_rollout_ref.actor.kl_loss_type == "low_var_kl"
        assert config.algorithm.adv_estimator == "grpo"


def test_unknown_keys_fail():
    with pytest.raises(ConfigCompositionException):
        compose_recipe("rzero_challenger", ["reward.custom_reward_function.reward_kwargs.no_such_key=1"])
    with pytest.raises(ConfigCompositionException):
        compose_recipe("rzero_solver", ["actor_rollout_ref.actor.no_such_key=1"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([], "needs a Solver"),
        (["reward.reward_model.enable=true"], "own resource pool"),
        (["reward.custom_reward_function.reward_kwargs.solver_urls=http://h:1", "trainer.balance_batch=false"],
         "balance_batch"),
        (["rzero.role=judge"], "'challenger' or 'solver'"),
    ],
)  # fmt: skip
def test_rzero_settings_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        check_rzero_config(compose_recipe("rzero_challenger", overrides))


def test_ablation_switches_compose():
    config = compose_recipe(
        "rzero_challenger",
        [
            "reward.custom_reward_function.reward_kwargs.repetition_penalty=false",
            "reward.custom_reward_function.reward_kwargs.uncertainty_scale=min",
            "reward.custom_reward_function.reward_kwargs.format_penalty=-1",
            "reward.custom_reward_function.reward_kwargs.clip=false",
        ],
    )
    assert challenger_reward_settings(config).repetition_penalty is False
    assert challenger_reward_settings(config).uncertainty_scale == "min"


def test_launcher_works_from_a_verl_checkout_copy(tmp_path, embedded_model):
    """Copied into a checkout's recipe/ and launched from its root, the recipe composes unchanged."""
    import shutil
    import subprocess
    import sys

    checkout = tmp_path / "verl-checkout"
    shutil.copytree(ROOT / "recipe" / "rzero", checkout / "recipe" / "rzero")
    (checkout / "recipe" / "__init__.py").write_text("")
    command = [
        sys.executable, "-m", "recipe.rzero.main_rzero", "--config-name", "rzero_solver", "--cfg", "job",
        f"actor_rollout_ref.model.path={embedded_model}", "data.train_files=/data/solver.parquet",
    ]  # fmt: skip
    # rzero_rewards comes from an installed rzero; here, a copy of it alone on PYTHONPATH.
    shutil.copytree(ROOT / "rzero_rewards", tmp_path / "site" / "rzero_rewards")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(command, cwd=checkout, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = OmegaConf.create(result.stdout)
    assert printed.rzero.role == "solver" and printed.data.train_files == "/data/solver.parquet"
    assert printed.reward.custom_reward_function.path == "pkg://recipe.rzero.reward_fn"


def planned_commands(script: str, tmp_path, *flags: str) -> list[list[str]]:
    """The commands `examples/<script> --dry-run [flags]` would run, split as the shell would."""
    import os
    import shlex
    import subprocess

    env = {**os.environ, "RUN_DIR": str(tmp_path / "run")}
    command = ["bash", str(ROOT / "examples" / script), "--dry-run", *flags]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return [shlex.split(line) for line in result.stdout.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("script", ["run_qwen3_4b.sh", "run_qwen3_8b.sh"])
def test_gpu_examples_compose_and_chain(script, tmp_path):
    commands = planned_commands(script, tmp_path)
    trainings = [c for c in commands if "recipe.rzero.main_rzero" in c]
    assert len(trainings) == 6  # 3 iterations × 2 roles
    for command in trainings:
        name = command[command.index("--config-name") + 1]
        config = compose_recipe(name, command[command.index("--config-name") + 2 :])
        validate_with_verl(config)
        check_rzero_config(config)
    assert_chained(commands)


def assert_chained(commands: list[list[str]]) -> None:
    """Every input of a planned command is the base model (the first command's `--model`) or an output of
    an earlier one (a stage's `--output`; a training's `<trainer.default_local_dir>/model`)."""
    produced = {commands[0][commands[0].index("--model") + 1]}
    inputs = ("--model", "--questions", "--tasks", "actor_rollout_ref.model.path", "data.train_files")
    for command in commands:
        arguments = dict(zip(command, command[1:])) | dict(a.split("=", 1) for a in command if "=" in a)
        for key in inputs:
            if key in arguments:
                assert arguments[key] in produced, (key, arguments[key])
        if "--output" in arguments:
            produced.add(arguments["--output"])
        if "trainer.default_local_dir" in arguments:
            produced.add(arguments["trainer.default_local_dir"] + "/model")


@pytest.mark.parametrize("script", ["run_qwen3_4b.sh", "run_qwen3_8b.sh"])
def test_gpu_examples_spread_inference_stages_over_every_gpu(script, tmp_path):
    """Issue 16: generate, label and evaluate get all 8 GPUs, one engine per tensor-parallel group."""
    from recipe.rzero.cli import build_parser
    from recipe.rzero.evaluation.runner import EvaluateConfig
    from recipe.rzero.stages.generate import GenerateConfig
    from recipe.rzero.stages.label import LabelConfig

    stages = {"generate": GenerateConfig, "label": LabelConfig, "evaluate": EvaluateConfig}
    planned = [c for c in planned_commands(script, tmp_path) if c[1:3] == ["-m", "recipe.rzero"] and c[3] in stages]
    assert {c[3] for c in planned} == set(stages)
    for command in planned:
        arguments = vars(build_parser(stages[command[3]]).parse_args(command[4:]))
        assert arguments["device"] == "cuda" and arguments["gpu_ids"] == [str(gpu) for gpu in range(8)], command
        assert arguments["replicas"] * arguments["tensor_parallel_size"] == 8, command
        if arguments.get("gold"):  # the 200-question gold slice: a chunk for each of the 8 engines
            assert arguments["limit"] / arguments["chunk_size"] == 8, command
