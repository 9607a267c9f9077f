#!/usr/bin/env bash
# Builds the real Apache APISIX 3.18.0 test lab (a test fixture for machines without a Docker engine; users run the
# official image) and prints its APISIX_HOME as the last line. The kit is ../shared/apisix-lab next to this checkout,
# or $SPILLWAY_APISIX_LAB; it is used as it is, never copied into the project. Exit 3: no kit here.
set -euo pipefail
cd "$(dirname "$0")/.."

kit="${SPILLWAY_APISIX_LAB:-$(cd .. && pwd)/shared/apisix-lab}"
if [ ! -f "$kit/build.sh" ]; then
  echo "apisix-lab: no kit at $kit (set SPILLWAY_APISIX_LAB to its folder)" >&2
  exit 3
fi

# The kit compiles lua-resty-events' helper against Debian's nginx-dev; without it only one worker works, and the
# suites run with two.
if ! dpkg-query -W -f='${Status}' nginx-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "apisix-lab: installing Debian package nginx-dev" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends nginx-dev >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends nginx-dev >/dev/null; }
fi

# Not under /root (APISIX refuses to run from there) and world-readable (workers run as nobody): the temp folder.
dest="${TMPDIR:-/tmp}/apisix-3.18"
home=$(bash "$kit/build.sh" "$dest" 2> >(grep -v '^\[apisix-lab\] \(applying\|compiling\)' >&2) | tail -1)
[ -x "$home/bin/apisix" ] || { echo "apisix-lab: the build did not produce $home/bin/apisix" >&2; exit 1; }
[ -f "$home/openresty/nginx/modules/ngx_lua_events_module.so" ] \
  || { echo "apisix-lab: no ngx_lua_events_module.so: only one worker would work" >&2; exit 1; }
echo "$home"
