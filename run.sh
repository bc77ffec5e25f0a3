#!/usr/bin/env bash
# Main job. Installs what is missing, then:
#   ./run.sh                 runs the parent benchmark (accuracy vs Keras + featurisation speed)
#   ./run.sh ARGS...         runs `atomsets ARGS...`, e.g. ./run.sh predict my.cif
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh test
if [ "$#" -eq 0 ]; then
    exec python benchmarks/featurize_speed.py
fi
exec atomsets "$@"
