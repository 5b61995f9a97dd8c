#!/usr/bin/env bash
# Installs what pa-gen's build, tests and demo need, and only what is missing:
# Debian packages (apt-get when root; otherwise prints the command and stops)
# and .venv with the dbt pinned in requirements.txt. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# clang: the sanitizer build and libFuzzer harnesses (scripts/fuzz.sh), which `make test` runs.
# postgresql: the server binaries scripts/pg-server.sh starts for the PostgreSQL tests (the
# system service the package sets up is not used).
packages=(cmake ninja-build g++ clang nlohmann-json3-dev libsimdjson-dev libcli11-dev libfmt-dev libgtest-dev libyaml-cpp-dev postgresql)
python3 -m venv --help >/dev/null 2>&1 || packages+=(python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages; run:"
    echo "  sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# .venv is rebuilt when requirements.txt changes.
want=$(sha256sum requirements.txt | cut -d' ' -f1)
have=$(cat .venv/.requirements.sha256 2>/dev/null || true)
if [[ ! -x .venv/bin/dbt || "$want" != "$have" ]]; then
  echo "setup: installing dbt into .venv (requirements.txt)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi
