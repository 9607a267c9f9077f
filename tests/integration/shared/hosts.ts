/**
 * TEST CODE. The gateway hosts an integration suite runs on: the nginx stand-in of APISIX (tests/host), or real
 * APISIX 3.18.0 (Docker image or APISIX_HOME) with 1 or 2 nginx workers. A suite is one function of its host, and
 * each host × worker count is its own thin test file, so vitest runs them side by side. When a host is missing, the
 * suite is still registered and every case is reported skipped with the reason in the title, never passed.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "vitest";
import { repoRoot } from "../../helpers/lua.ts";
import { APISIX_VERSION } from "../../rig/apisix.ts";
import { parseAccessLog, type AccessLogEntry, type Gateway } from "../../rig/gateway.ts";
import { apisixHostOrSkipReason } from "../../scenarios/hosts/apisix.ts";
import { nginxHost } from "../../scenarios/hosts/nginx.ts";
import type { ScenarioHost } from "../../scenarios/run.ts";

export interface IntegrationHost extends ScenarioHost {
  /** nginx worker_processes of every gateway this host starts. */
  workers: number;
}

export type HostChoice = { host: IntegrationHost } | { skip: string; name: IntegrationHost["name"]; title: string; workers: number };

/** nginx writes an access-log entry after the response went out; a busy 2-core machine may take a moment. */
const ACCESS_LOG_WAIT_MS = 3000;
/** Requests fromEveryWorker may send; the odds of all landing on one of two workers are 2^-19. */
const MAX_SPREAD_REQUESTS = 20;
const OUR_PLUGINS = ["apisix/plugins/spillway-failover.lua", "apisix/plugins/azure-openai-auth.lua", "spillway/hook.lua"];

/** Both hosts load our plugins from build/lua. */
function missingBuild(): string | undefined {
  const built = OUR_PLUGINS.every((f) => existsSync(path.join(repoRoot, "build/lua", f)));
  return built ? undefined : "build/lua is missing our plugins (run npm run build)";
}

export function standin(): HostChoice {
  const title = nginxHost.title;
  if (spawnSync("sh", ["-c", "command -v nginx"]).status !== 0) return { skip: "nginx is not installed (scripts/setup.sh installs it)", name: "nginx", title, workers: 1 };
  const build = missingBuild();
  if (build !== undefined) return { skip: build, name: "nginx", title, workers: 1 };
  return { host: { ...nginxHost, workers: 1 } };
}

/** Real APISIX with `workers` nginx workers, or why this machine has none. */
export async function realApisix(workers: number): Promise<HostChoice> {
  const title = `real APISIX ${APISIX_VERSION}, ${workers} worker${workers === 1 ? "" : "s"}`;
  const found = await apisixHostOrSkipReason(workers);
  if ("skip" in found) return { skip: found.skip, name: "apisix", title, workers };
  const build = missingBuild();
  if (build !== undefined) return { skip: build, name: "apisix", title, workers };
  return { host: { ...found.host, workers } };
}

/**
 * `describe(<topic> — <host>)` around `body`. When the host is missing, the same body is registered under
 * describe.skip (its hooks never run, its cases show as skipped) with a host that refuses to start.
 */
export function describeOnHost(choice: HostChoice, topic: string, body: (host: IntegrationHost) => void): void {
  if ("host" in choice) {
    describe(`${topic} — ${choice.host.title}`, () => body(choice.host));
    return;
  }
  const absent: IntegrationHost = {
    name: choice.name,
    title: choice.title,
    workers: choice.workers,
    start: () => Promise.reject(new Error(`${choice.title} is not available: ${choice.skip}`)),
  };
  describe.skip(`${topic} — ${choice.title} — skipped: ${choice.skip}`, () => body(absent));
}

/**
 * Request headers for a new connection per request: APISIX listens with reuseport, so the kernel spreads new
 * connections over the workers, whereas one kept-alive connection stays with one worker and proves nothing about
 * state the workers must share. Sent on every host, so the cases are the same on all of them.
 */
export const NEW_CONNECTION = { connection: "close" } as const;

/** Access-log entries written so far (the rig's format carries the serving worker's pid). */
export function accessEntries(gw: Gateway): AccessLogEntry[] {
  return parseAccessLog(gw.accessLog());
}

/**
 * Pids of the workers that served the `count` requests logged after the first `from` entries. nginx writes an entry
 * once the response went out, so this waits (at most ACCESS_LOG_WAIT_MS) for all of them.
 */
export async function servingWorkers(gw: Gateway, from: number, count: number): Promise<Set<string>> {
  const deadline = Date.now() + ACCESS_LOG_WAIT_MS;
  let entries = accessEntries(gw).slice(from);
  while (entries.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    entries = accessEntries(gw).slice(from);
  }
  return new Set(entries.map((e) => e.pid));
}

/**
 * Sends `request` (which must open a new connection, see NEW_CONNECTION) until every worker of the gateway has
 * served one, at most MAX_SPREAD_REQUESTS times, and checks every answer; returns how many workers served.
 */
export async function fromEveryWorker<T>(gw: Gateway, workers: number, request: () => Promise<T>, check: (res: T) => void): Promise<number> {
  const from = accessEntries(gw).length;
  let served = new Set<string>();
  for (let sent = 0; sent < MAX_SPREAD_REQUESTS && served.size < workers; ) {
    check(await request());
    sent++;
    served = await servingWorkers(gw, from, sent);
  }
  return served.size;
}

/**
 * `it`, or `it.skip` with the reason in its title on a host that cannot show this behaviour (the integration
 * counterpart of a scenario's `skipOn`). Never a pass.
 */
export function caseOn(host: IntegrationHost, skipOn: Partial<Record<IntegrationHost["name"], string>>) {
  const reason = skipOn[host.name];
  return (name: string, fn: () => Promise<void> | void, timeoutMs?: number): void => {
    if (reason === undefined) it(name, fn, timeoutMs);
    else it.skip(`${name} — skipped on ${host.title}: ${reason}`, fn);
  };
}
