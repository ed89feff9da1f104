"""Benchmark the code sandbox: executions per second for small programs, against a baseline
measured in the same run (a fresh `python -I -c` process per program, no isolation at all).

1. Throughput: `run_functions` over N small AZR-style programs (all verdicts checked), with the
   default pool (one worker per core).
2. Latency: one `run_function` at a time, from one thread.
3. Baseline: the same programs, each in a new interpreter started with subprocess.
4. AZR validation: `validate_tasks` (two runs each) over the same programs.

    python -m benchmarks.bench_sandbox            # N = 400
    python -m benchmarks.bench_sandbox --n 100
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from rzero_rewards.code import run_function, run_functions, validate_tasks

def fibonacci(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


# (program, argument template, the expected value for k), small AZR-style programs.
PROGRAMS = [
    ("def f(n):\n    return sum(int(d) for d in str(n))", "{k}", lambda k: sum(int(d) for d in str(k))),
    ("def f(xs):\n    return sorted(xs, reverse=True)[:3]", "[{k}, 3, 9, 1]", lambda k: sorted([k, 3, 9, 1])[::-1][:3]),
    (
        "from collections import Counter\ndef f(s):\n    return sorted(Counter(s).items())",
        "'abca{k}'",
        lambda k: sorted({c: f"abca{k}".count(c) for c in f"abca{k}"}.items()),
    ),
    ("def f(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a", "{k}", fibonacci),
]


def calls(n: int) -> tuple[list[tuple[str, str]], list[object]]:
    pairs, expected = [], []
    for k in range(n):
        program, template, answer = PROGRAMS[k % len(PROGRAMS)]
        pairs.append((program, template.format(k=k)))
        expected.append(answer(k))
    return pairs, expected


def baseline(pairs: list[tuple[str, str]]) -> list[str]:
    outputs = []
    for program, arguments in pairs:
        script = f"{program}\nprint(repr(f({arguments})))"
        outputs.append(subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True).stdout)
    return outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=400, help="programs per measurement")
    args = parser.parse_args(argv)
    pairs, expected = calls(args.n)
    run_function("def f():\n    return 0", "")  # start the workers outside the measured time
    run_functions([("def f():\n    return 0", "")] * 4)

    started = time.perf_counter()
    executions = run_functions(pairs)
    batch_s = time.perf_counter() - started
    assert [e.value for e in executions] == expected, "a wrong result"

    count = min(args.n, 100)
    started = time.perf_counter()
    for program, arguments in pairs[:count]:
        run_function(program, arguments)
    latency_s = (time.perf_counter() - started) / count

    base_count = min(args.n, 100)
    started = time.perf_counter()
    outputs = baseline(pairs[:base_count])
    base_s = (time.perf_counter() - started) / base_count
    assert [o.strip() for o in outputs] == [repr(v) for v in expected[:base_count]], "baseline: a wrong result"

    started = time.perf_counter()
    validations = validate_tasks(pairs)
    validate_s = time.perf_counter() - started
    assert all(v.task is not None for v in validations)

    print("| measurement | programs | time s | executions/s |")
    print("|---|---|---|---|")
    print(f"| `run_functions` batch (pool) | {args.n} | {batch_s:.2f} | {args.n / batch_s:.0f} |")
    print(f"| `run_function`, one at a time | {count} | {latency_s * count:.2f} | {1 / latency_s:.0f} |")
    print(f"| baseline: `python -I -c` per program, no isolation | {base_count} | {base_s * base_count:.2f} "
          f"| {1 / base_s:.0f} |")  # fmt: skip
    print(f"| `validate_tasks` (2 runs each) | {args.n} | {validate_s:.2f} | {2 * args.n / validate_s:.0f} |")
    print(f"\nbatch vs baseline: {(args.n / batch_s) * base_s:.1f}x; one-at-a-time latency {latency_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
