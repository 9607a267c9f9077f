#!/usr/bin/env bash
# The test command: install what is missing, build the Lua, run every suite (vitest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
