#!/bin/sh
# `spillway` inside the gateway image (/usr/local/bin/spillway): the bundled renderer, which carries only `render`,
# e.g. `docker exec <container> spillway render --dry-run`. The rest of the CLI needs the repository (bin/spillway.mjs).
exec node /opt/spillway/renderer/spillway-render.mjs "$@"
