"""A math-verify worker process: reads `[gold, answer]` JSON lines on stdin; for each, writes `gold`
once the gold is parsed, `answer` once the answer is, then `true`/`false`.

It runs as `python -m rzero_rewards._verify_worker` so that the parent can kill it when one
step hangs (math-verify's own `signal.alarm` timeouts only work on a main thread, and some
inputs, such as `9^{9^{9^{9}}}`, hang inside C code where no signal is delivered). The progress
lines tell the parent which step hung, so that it can blame the answer whose parse hung.
"""

from __future__ import annotations

import json
import logging
import sys
from functools import lru_cache


def as_boxed(expression: str) -> str:
    """Wrap a bare answer so math-verify's LaTeX extraction reads all of it."""
    return "\\boxed{" + expression + "}"


def main() -> None:
    from math_verify import parse, verify

    @lru_cache(maxsize=4096)
    def parsed(expression: str) -> list:
        try:
            return parse(as_boxed(expression), parsing_timeout=None)
        except Exception:  # a malformed expression has no parse, and is equivalent to nothing
            return []

    def report(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    logging.disable(logging.WARNING)  # math-verify logs every unparsable answer
    report("ready")
    for line in sys.stdin:
        gold_text, answer_text = json.loads(line)
        gold = parsed(gold_text)
        report("gold")
        answer = parsed(answer_text)
        report("answer")
        try:
            result = bool(gold) and bool(answer) and verify(gold, answer, timeout_seconds=None)
        except Exception:
            result = False
        report("true" if result else "false")


if __name__ == "__main__":
    main()
