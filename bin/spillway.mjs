#!/usr/bin/env node
// `spillway` as a command: `npx spillway <command>` in a checkout after `npm ci`. Registers tsx (a devDependency)
// and runs the TypeScript CLI, found next to this file rather than in the working directory. The gateway image
// does not use this launcher: it ships the renderer as one esbuild bundle with its own `spillway` (apisix/Dockerfile).
import { register } from "tsx/esm/api";

register();
await import(new URL("../scripts/spillway.ts", import.meta.url).href);
