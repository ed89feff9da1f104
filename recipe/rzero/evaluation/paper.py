"""The scores (%) R-Zero's authors report, to show beside a reproduction's (`compare_evals.py --paper`).

Source: the "Impressive Results" table of the authors' README (github.com/Chengsong-Huang/R-Zero,
commit 5699329), the paper's general-domain results for arXiv 2508.05004v1: overall average, math
average (AMC, Minerva, MATH-500, GSM8K, OlympiadBench, AIME24, AIME25), SuperGPQA, MMLU-Pro, BBEH.
Only these columns are listed: per-benchmark math scores were not found in a source we could read,
and the paper's own table number could not be checked against its text. Later versions of the
paper may report other numbers; only these are listed.
"""

from __future__ import annotations

SOURCE = "authors' README 'Impressive Results' (github.com/Chengsong-Huang/R-Zero @5699329; arXiv 2508.05004v1)"
COLUMNS = ("overall_average", "math_average", "supergpqa", "mmlu_pro", "bbeh")
# model -> run (base, iteration k) -> the values of COLUMNS
REPORTED: dict[str, dict[str, tuple[float, ...]]] = {
    "Qwen3-4B-Base": {
        "base": (27.10, 42.58, 20.88, 37.38, 7.57),
        "iteration 1": (34.27, 48.06, 27.92, 51.69, 9.42),
        "iteration 2": (34.92, 48.44, 27.72, 53.75, 9.76),
        "iteration 3": (34.64, 49.07, 27.55, 51.53, 10.42),
    },
    "Qwen3-8B-Base": {
        "base": (34.49, 49.18, 28.33, 51.80, 8.63),
        "iteration 1": (37.93, 53.39, 31.26, 57.17, 9.91),
        "iteration 2": (38.45, 53.84, 31.58, 58.20, 10.20),
        "iteration 3": (38.73, 54.69, 31.38, 58.23, 10.60),
    },
}


def paper_summaries(model: str) -> dict[str, dict]:
    """The reported runs of `model` as `summary.json`-shaped dicts, labelled `paper: <run>`.

    Raises `ValueError` naming the known models for any other name.
    """
    if model not in REPORTED:
        raise ValueError(f"no reported scores for {model!r}; known: {', '.join(REPORTED)}")
    summaries = {}
    for run, values in REPORTED[model].items():
        scores = dict(zip(COLUMNS, values))
        summaries[f"paper: {run}"] = {"benchmarks": {name: scores[name] for name in COLUMNS[2:]}} | {
            name: scores[name] for name in COLUMNS[:2]
        }
    return summaries
