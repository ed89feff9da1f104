#!/usr/bin/env bash
# The test command: install the system packages and build the two environments if needed, then run
# pytest in the train one.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k repetition -x`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup_system.sh"
envs=$(bash "$root/scripts/setup_envs.sh")
eval "export $(grep '^RZERO_TRAIN_PYTHON=' <<<"$envs")"
eval "export $(grep '^RZERO_INFER_PYTHON=' <<<"$envs")"
cd "$root"
# pytest exits 5 when it collected no test: that fails this script too.
exec "$RZERO_TRAIN_PYTHON" -m pytest "$@"
