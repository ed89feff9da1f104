"""`rzero COMMAND [OPTIONS]` — every stage and tool of the recipe behind one command.

Installed as the `rzero` console script (`pip install -e .`); from a checkout or a verl tree holding
`recipe/rzero`, `python -m recipe.rzero COMMAND ...` is the same. Every command takes its options from
a config dataclass (`cli.build_parser`: the dataclass is the one source of its defaults) and reports
bad input as one `error: ...` line with exit code 1. `rzero COMMAND --help` lists a command's options.

Inference environment (vLLM): generate, label, generate-code, label-code, evaluate, self-check,
serve-solver. Training environment: challenger-prompts, prepare-model, report, run-info. Either: compare.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from .cli import run_cli

# command -> (module, config class, function run with the config, what it does)
COMMANDS = {
    "generate": ("stages.generate", "GenerateConfig", "run_generate", "a Challenger writes N candidate questions"),
    "label": ("stages.label", "LabelConfig", "run_label", "m Solver answers per question, majority pseudo-labels"),
    "generate-code": ("stages.generate_code", "GenerateCodeConfig", "run_generate_code",
                      "a proposer writes code tasks, validated in the sandbox"),
    "label-code": ("stages.label_code", "LabelCodeConfig", "run_label_code",
                   "m Solver answers per code task, verified by the executor"),
    "evaluate": ("evaluation.runner", "EvaluateConfig", "run_evaluate", "score a model on the benchmarks"),
    "self-check": ("evaluation.runner", "SelfCheckConfig", "run_self_check",
                   "the graders must score every benchmark's references 100%"),
    "azr-seed": ("recipe.azr.seeding", "SeedConfig", "run_seed", "AZR: the base model fills the task buffers (seeding)"),
    "serve-solver": ("solver_service", "SolverServiceConfig", "serve", "serve the Solver with vLLM until stopped"),
    "challenger-prompts": ("commands", "ChallengerPromptsConfig", "write_challenger_prompts",
                           "the Challenger's training prompts (rows from its composed config)"),
    "prepare-model": ("commands", "PrepareModelConfig", "prepare_model", "convert an embedded model on first use"),
    "compare": ("commands", "CompareConfig", "compare", "compare evaluation runs: table and chart"),
    "report": ("commands", "ReportConfig", "report", "the report of an R-Zero loop or AZR run"),
    "run-info": ("commands", "RunInfoConfig", "run_info", "write a run's run.json"),
}  # fmt: skip


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {entry[3]}" for name, entry in COMMANDS.items()]
    return "usage: rzero COMMAND [OPTIONS]  (rzero COMMAND --help)\n\ncommands:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run `argv[0]` with the options `argv[1:]` (default: the process's arguments)."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        raise SystemExit(0 if argv else 2)
    if argv[0] not in COMMANDS:
        raise SystemExit(f"rzero: unknown command {argv[0]!r}\n{usage()}")
    module, config_class = command_module(argv[0])
    description = config_class.__doc__ if module.__name__.endswith(".commands") else module.__doc__
    run_cli(config_class, getattr(module, COMMANDS[argv[0]][2]), argv[1:], description=description,
            prog=f"rzero {argv[0]}")  # fmt: skip


def command_module(name: str) -> tuple[ModuleType, type]:
    """The module that runs `rzero NAME` (a key of `COMMANDS`) and its options' dataclass."""
    module_name, config_name, _, _ = COMMANDS[name]
    qualified = module_name if module_name.startswith("recipe.") else f"{__package__}.{module_name}"
    module = importlib.import_module(qualified)
    return module, getattr(module, config_name)


if __name__ == "__main__":
    main()
