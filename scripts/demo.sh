#!/usr/bin/env bash
# The main job: a local demo. Three Azure OpenAI simulators (one quickly throttled), the gateway in front of them,
# and a burst of chat + streamed requests through the official openai SDK; prints who served what.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx scripts/spillway.ts demo "$@"
