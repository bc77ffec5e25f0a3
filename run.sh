#!/usr/bin/env bash
# Main job. Installs what is missing, then:
#   ./run.sh                 the parent benchmark: exactness (Li2O) and featurisation speed;
#                            results in runs/ (untracked); --save writes benchmarks/results/
#   ./run.sh ARGS...         runs `atomsets ARGS...`, e.g. ./run.sh predict my.cif
# Paths given in ARGS are relative to where you are, not to the repository.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$ROOT/scripts/ensure_env.sh" test
if [ "$#" -eq 0 ] || [ "$1" = "--save" ]; then
    exec python "$ROOT/benchmarks/speed/featurize.py" "$@"
fi
exec atomsets "$@"
