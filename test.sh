#!/usr/bin/env bash
# Tests. Installs what is missing, then runs pytest (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh test
exec python -m pytest "$@"
