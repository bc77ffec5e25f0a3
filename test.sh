#!/usr/bin/env bash
# Tests. Installs what is missing, then runs pytest from the repository root (extra
# arguments go to pytest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$ROOT/scripts/ensure_env.sh" test
cd "$ROOT"
exec python -m pytest "$@"
