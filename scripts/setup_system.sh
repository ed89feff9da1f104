#!/usr/bin/env bash
# Install (once) the system packages rzero needs beyond its Python environments:
#   bubblewrap - the code sandbox's namespaces (rzero_rewards/code/sandbox.py)
# Debian/Ubuntu, as root (CI's machines); elsewhere it names what to install and fails.
set -euo pipefail

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "[setup_system] install these system packages first: ${missing[*]}" >&2
  exit 1
fi
echo "[setup_system] installing ${missing[*]}" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
