"""Command lines generated from the stage configuration dataclasses."""

from pathlib import Path

import pytest

from recipe.rzero.cli import parse_config
from recipe.rzero.stages.generate import GenerateConfig
from recipe.rzero.stages.label import LabelConfig


def test_generate_options_and_defaults(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    config = parse_config(GenerateConfig, ["--model", str(tmp_path), "--output", "q.jsonl", "--num-questions", "5"])
    assert config.num_questions == 5 and config.top_p == 0.95 and config.output == Path("q.jsonl")


def test_label_boolean_and_optional_options(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "1+1?"}\n')
    argv = ["--model", str(tmp_path), "--output", "o.parquet", "--questions", str(questions), "--no-filter"]
    config = parse_config(LabelConfig, argv)
    assert config.filter is False and config.limit is None and config.samples == 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "/nonexistent/ckpt", "--output", "o.parquet", "--benchmark", "gsm8k"], "neither a checkpoint"),
        (["--output", "o.parquet", "--benchmark", "gsm8k"], "required"),
    ],
)
def test_bad_arguments_exit_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_config(LabelConfig, argv)
    assert message in str(exit_info.value) + capsys.readouterr().err


def test_label_needs_exactly_one_source(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SystemExit, match="exactly one of --questions and --benchmark"):
        parse_config(LabelConfig, ["--model", str(tmp_path), "--output", "o.parquet"])


def test_every_rzero_command_resolves_and_documents_its_options(capsys):
    """Issue 15: one `rzero` command; each sub-command's options come from its config dataclass."""
    from recipe.rzero.__main__ import COMMANDS, main

    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0, name
        assert capsys.readouterr().out.startswith(f"usage: rzero {name} "), name
    with pytest.raises(SystemExit, match="unknown command 'nonsense'"):
        main(["nonsense"])
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2 and "challenger-prompts" in capsys.readouterr().out


def test_the_console_script_is_the_command_table():
    import tomllib

    scripts = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"rzero": "recipe.rzero.__main__:main"}


def test_positional_and_list_options(tmp_path):
    """`compare RUN ... --output`, `report RUN_DIR --no-weights`, `run-info --setting K=V ...`."""
    from recipe.rzero.commands import CompareConfig, ReportConfig, RunInfoConfig

    config = parse_config(CompareConfig, ["a", "b", "--output", "cmp", "--labels", "base", "iter_1"])
    assert config.runs == [Path("a"), Path("b")] and config.labels == ["base", "iter_1"] and config.paper is None
    assert parse_config(ReportConfig, ["run", "--no-weights"]) == ReportConfig(run_dir=Path("run"), weights=False)
    config = parse_config(RunInfoConfig, ["--output", "r.json", "--setting", "A=1", "FLAGS=--no-filter", "E="])
    assert config.setting == ["A=1", "FLAGS=--no-filter", "E="]
    with pytest.raises(SystemExit, match="--setting: expected KEY=VALUE, got 'oops'"):
        parse_config(RunInfoConfig, ["--output", "r.json", "--setting", "oops"])
    with pytest.raises(SystemExit, match="--paper 'GPT-9'"):
        parse_config(CompareConfig, ["a", "--output", "cmp", "--paper", "GPT-9"])
