#!/usr/bin/env bash
# The test command: install what is missing, build the Lua, run every suite (vitest). Real APISIX 3.18.0 suites run
# on $APISIX_HOME, else on the apisix-lab kit next to this checkout (built here, ~40 s the first time), else on a
# Docker engine; with none of them they report skipped with the reason. SPILLWAY_REQUIRE_APISIX=1 (CI) makes a
# missing APISIX an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [ -z "${APISIX_HOME:-}" ]; then
  rc=0
  home=$(bash scripts/apisix-lab.sh) || rc=$?
  if [ "$rc" -eq 0 ]; then
    export APISIX_HOME="$home"
  elif [ "$rc" -ne 3 ] || [ "${SPILLWAY_REQUIRE_APISIX:-}" = "1" ]; then
    echo "test: real APISIX is required here and could not be built (see above)" >&2
    exit 1
  fi
fi
if [ -n "${APISIX_HOME:-}" ]; then
  export PATH="$APISIX_HOME/openresty/bin:$PATH"
  echo "test: real APISIX suites run on APISIX_HOME=$APISIX_HOME"
fi
npm test
