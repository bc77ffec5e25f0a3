# Sourced by run.sh and test.sh: make .venv (if missing) and install what is missing.
# Re-installs only when setup.cfg or pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TORCH_ATOMSETS_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
# CPU build of torch: pinned so pip never pulls the multi-GB CUDA packages.
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
EXTRAS="${1:-test}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.torch_atomsets-$(cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-$EXTRAS"
if [ ! -f "$stamp" ]; then
    echo "[setup] installing $TORCH_SPEC and torch_atomsets[$EXTRAS] into $VENV (a few minutes the first time)" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q "$TORCH_SPEC" >&2
    # the constraint keeps any dependency from replacing the pinned CPU build of torch
    echo "$TORCH_SPEC" > "$VENV/.torch-constraint.txt"
    "$VENV/bin/python" -m pip install -q -c "$VENV/.torch-constraint.txt" -e "$ROOT[$EXTRAS]" >&2
    rm -f "$VENV"/.torch_atomsets-*
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
# Data and weights: ../shared beside the checkout unless the caller says otherwise. The
# folder is also written into the environment's settings, so `atomsets` run from the
# environment (without this script) finds it too.
if [ -z "${TORCH_ATOMSETS_HOME:-}" ] && [ -d "$ROOT/../shared" ]; then
    export TORCH_ATOMSETS_HOME="$(cd "$ROOT/../shared" && pwd)"
fi
if [ -n "${TORCH_ATOMSETS_HOME:-}" ]; then
    mkdir -p "$VENV/etc"
    printf '{"home": "%s"}\n' "$TORCH_ATOMSETS_HOME" > "$VENV/etc/torch_atomsets.json"
fi
