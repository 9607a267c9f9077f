#!/usr/bin/env bash
# Installs what Spillway's tests and demo need on Debian (idempotent): the Lua/nginx rig packages and the
# npm dependencies. Runs apt-get only for packages that are missing (needs root or sudo for that).
set -euo pipefail
cd "$(dirname "$0")/.."

# luajit2 = OpenResty's LuaJIT branch, the one libnginx-mod-http-lua links; it conflicts with Debian's `luajit`.
# prometheus: its promtool checks apisix/observability/alerts.yaml; scripts/observability/snapshot.ts runs the server.
APT_PACKAGES=(luajit2 nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache lua-cjson redis-server openssl prometheus)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# lua-resty-redis for the nginx rig (real APISIX ships it as resty.redis). Debian packages it as
# lua-nginx-redis, which depends on nginx-extras; we only need its one Lua file, so unpack the package itself.
if [ ! -f .deps/usr/share/lua/5.1/nginx/redis.lua ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download lua-nginx-redis >/dev/null 2>&1) || { [ "$(id -u)" -eq 0 ] || true; }
  if ! ls "$tmp"/lua-nginx-redis_*.deb >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && (cd "$tmp" && apt-get download lua-nginx-redis >/dev/null)
  fi
  mkdir -p .deps && dpkg -x "$tmp"/lua-nginx-redis_*.deb .deps
  rm -rf "$tmp"
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.spillway-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
