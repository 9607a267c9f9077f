/**
 * --watch: re-read the inputs (env files, Key Vault) every interval and rewrite apisix.yaml only when its content
 * changed; APISIX standalone mode picks the new file up without a restart. A failed re-read (bad value, vault
 * unreachable) keeps the last good file and logs why. config.yaml is not hot-reloadable, so a change there is
 * only reported.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Rendered } from "./render.ts";

export interface WatchOptions {
  intervalMs: number;
  /** Gathers inputs, loads settings and renders; throws on any problem. */
  load: () => Promise<Rendered>;
  /** Writes apisix.yaml atomically; returns whether it changed. */
  writeApisix: (rendered: Rendered) => boolean;
  log: (line: string) => void;
  signal: AbortSignal;
  /** The config.yaml currently in use, to tell when a restart is needed. */
  configYaml?: string;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function watchLoop(opts: WatchOptions): Promise<void> {
  let reportedConfig = opts.configYaml;
  while (!opts.signal.aborted) {
    try {
      await sleep(opts.intervalMs, undefined, { signal: opts.signal });
    } catch {
      return; // aborted
    }
    let rendered: Rendered;
    try {
      rendered = await opts.load();
    } catch (err) {
      opts.log(`re-read failed; keeping the last good apisix.yaml:\n${reason(err)}`);
      continue;
    }
    try {
      if (opts.writeApisix(rendered)) opts.log("apisix.yaml changed and was rewritten; APISIX reloads it within a second");
    } catch (err) {
      opts.log(`cannot write apisix.yaml; the previous file stays in place: ${reason(err)}`);
      continue;
    }
    if (reportedConfig !== undefined && rendered.configYaml !== reportedConfig) {
      opts.log("config.yaml would change (ports, plugins, log level, …); it is not hot-reloadable: restart the gateway to apply it");
      reportedConfig = rendered.configYaml;
    }
  }
}
