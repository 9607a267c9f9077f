#!/usr/bin/env bash
# The main job: a local demo. Three Azure OpenAI simulators (one quickly throttled), the gateway in front of them,
# and a burst of chat + streamed requests through the official openai SDK; prints who served what.
#
# Gateway: APISIX in Docker when an engine answers; else APISIX_HOME. When neither is there but the apisix-lab kit sits
# next to this checkout (../shared/apisix-lab), real APISIX 3.18.0 is built from it into ${TMPDIR:-/tmp}/apisix-3.18
# (scripts/apisix-lab.sh: about 40 s the first time, under 1 s after) and used. Only then is the nginx stand-in used.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

kit="${SPILLWAY_APISIX_LAB:-$(dirname "$PWD")/shared/apisix-lab}"
docker_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

if [ -z "${APISIX_HOME:-}" ] && [ -f "$kit/build.sh" ] && ! docker_answers; then
  echo "demo: no Docker engine answers and APISIX_HOME is not set; building real APISIX 3.18.0 from $kit"
  if home="$(bash scripts/apisix-lab.sh)"; then
    export APISIX_HOME="$home"
  else
    echo "demo: the APISIX lab build failed (see above); falling back to the nginx test stand-in" >&2
  fi
fi

exec node --import tsx scripts/spillway.ts demo "$@"
