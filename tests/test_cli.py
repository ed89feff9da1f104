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
