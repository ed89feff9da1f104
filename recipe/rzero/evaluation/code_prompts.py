"""The prompts of the code benchmarks, in each benchmark's own words.

- CRUXEval (arXiv 2401.03065): the chain-of-thought prompts of the official harness
  (facebookresearch/cruxeval, `prompts.py`, `make_cot_output_prompt` / `make_cot_input_prompt`),
  sent as its chat runner sends them (`openai/openai_prompt.py`): its system prompt, then the
  prompt as the user's turn. The answer is an assertion between `[ANSWER]` and `[/ANSWER]`;
  generation stops at `[/ANSWER]`, as there.
- HumanEval (arXiv 2107.03374) is a completion benchmark without a chat prompt; chat models get
  EvalPlus's instruction (evalplus `codegen.py`) with the problem's prompt in a code block.
  EvalPlus also starts the assistant's turn with a code fence; the runner's chat API cannot, so
  the model writes its own.
"""

from __future__ import annotations

CRUXEVAL_SYSTEM_PROMPT = "You are an expert at Python programming, code execution, test case generation, and fuzzing."
CRUXEVAL_STOP = "[/ANSWER]"

_OUTPUT_INSTRUCTION = (
    "You are given a Python function and an assertion containing an input to the function. Complete the assertion "
    "with a literal (no unsimplified expressions, no function calls) containing the output when executing the "
    "provided code on the given input, even if the function is incorrect or incomplete. Do NOT output any extra "
    "information. Execute the program step by step before arriving at an answer, and provide the full assertion "
    "with the correct output in [ANSWER] and [/ANSWER] tags, following the examples."
)
_OUTPUT_EXAMPLE = '''[PYTHON]
def f(s):
    s = s + s
    return "b" + s + "a"
assert f("hi") == ??
[/PYTHON]
[THOUGHT]
Let's execute the code step by step:

1. The function f is defined, which takes a single argument s.
2. The function is called with the argument "hi", so within the function, s is initially "hi".
3. Inside the function, s is concatenated with itself, so s becomes "hihi".
4. The function then returns a new string that starts with "b", followed by the value of s (which is now "hihi"), \
and ends with "a".
5. The return value of the function is therefore "bhihia".
[/THOUGHT]
[ANSWER]
assert f("hi") == "bhihia"
[/ANSWER]'''

_INPUT_INSTRUCTION = (
    "You will be given a function f and an output in the form f(??) == output. Your task is to find any input such "
    "that executing f on the input leads to the given output. There may be multiple answers, but only output one. "
    "First, think step by step. You MUST surround the answer with [ANSWER] and [/ANSWER] tags. Express your answer "
    "as a passing assertion containing the input and the given output."
)
_INPUT_EXAMPLE = """[PYTHON]
def f(x):
    return x + 1
assert f(??) == 17
[/PYTHON]
[THOUGHT]
To find an input such that executing f on the input leads to the given output, we can work backwards from the \
given assertion. We know that f(??) == 17. \n
Since the function f(x) returns x + 1, for f(??) to be equal to 17, the value of ?? should be 16. \n\
[/THOUGHT]
[ANSWER]
assert f(16) == 17
[/ANSWER]"""

HUMANEVAL_INSTRUCTION = (
    "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
)


def output_prediction_prompt(code: str, arguments: str) -> str:
    """CRUXEval-O: predict `f(arguments)` for the function `code` (`arguments`: call-argument text)."""
    task = f"[PYTHON]\n{code}\nassert f({arguments}) == ??\n[/PYTHON]\n[THOUGHT]\n"
    return f"{_OUTPUT_INSTRUCTION}\n\n{_OUTPUT_EXAMPLE}\n\n{task}"


def input_prediction_prompt(code: str, output: str) -> str:
    """CRUXEval-I: find an input on which the function `code` returns `output` (a Python literal)."""
    task = f"[PYTHON]\n{code}\nassert f(??) == {output}\n[/PYTHON]\n[THOUGHT]\n"
    return f"{_INPUT_INSTRUCTION}\n\n{_INPUT_EXAMPLE}\n\n{task}"


def humaneval_prompt(prompt: str) -> str:
    """HumanEval: write the function that `prompt` (imports, signature and docstring) begins."""
    return f"{HUMANEVAL_INSTRUCTION}\n```\n{prompt.strip()}\n```\n"
