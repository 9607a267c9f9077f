#!/usr/bin/env bash
# Spillway gateway entrypoint.
#   1. Render apisix.yaml + config.yaml from the container's environment (and Key Vault when KEY_VAULT_URI is set).
#      Invalid configuration: the renderer prints every problem and this script exits with its code (3); APISIX is
#      never started on a bad config.
#   2. With --watch, keep a renderer running beside APISIX that re-reads the inputs and rewrites apisix.yaml on change.
#   3. exec the image's own entrypoint, which runs `apisix init` and then OpenResty in the foreground, as the
#      image's non-root user.
# Arguments are passed to `spillway render` (e.g. --env-file /run/config/app.env --watch --interval 60), except
# --no-render: use the apisix.yaml/config.yaml already mounted at /opt/spillway/conf (spillway start does this).
set -euo pipefail

CONF_DIR=/opt/spillway/conf
RENDER=(node /opt/spillway/renderer/spillway-render.mjs render --out "$CONF_DIR")

watch=false
render=true
args=()
for arg in "$@"; do
  case "$arg" in
    --watch) watch=true ;;
    --no-render) render=false ;;
    *) args+=("$arg") ;;
  esac
done

if [ "$render" = true ]; then
  "${RENDER[@]}" "${args[@]}" || exit $?
elif [ ! -f "$CONF_DIR/apisix.yaml" ] || [ ! -f "$CONF_DIR/config.yaml" ]; then
  echo "spillway: --no-render given but $CONF_DIR has no apisix.yaml and config.yaml; mount the rendered files there" >&2
  exit 3
fi

if [ "$watch" = true ]; then
  "${RENDER[@]}" --watch "${args[@]}" &
fi

exec /docker-entrypoint.sh docker-start
