"""A math-verify worker process: reads `[gold, answer]` JSON lines on stdin, writes `true`/`false`.

It runs as `python -m rzero_rewards._verify_worker` so that the parent can kill it when one
comparison hangs (math-verify's own `signal.alarm` timeouts only work on a main thread, and
some inputs, such as `9^{9^{9^{9}}}`, hang inside C code where no signal is delivered).
"""

from __future__ import annotations

import json
import logging
import sys


def as_boxed(expression: str) -> str:
    """Wrap a bare answer so math-verify's LaTeX extraction reads all of it."""
    return "\\boxed{" + expression + "}"


def main() -> None:
    from math_verify import parse, verify

    logging.disable(logging.WARNING)  # math-verify logs every unparsable answer
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        gold_text, answer_text = json.loads(line)
        try:
            gold = parse(as_boxed(gold_text), parsing_timeout=None)
            answer = parse(as_boxed(answer_text), parsing_timeout=None)
            result = bool(gold) and bool(answer) and verify(gold, answer, timeout_seconds=None)
        except Exception:  # a malformed expression is simply not equivalent
            result = False
        sys.stdout.write("true\n" if result else "false\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
