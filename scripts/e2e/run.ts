/**
 * One `spillway e2e` run: the stack (local, or a deployed gateway), then each scenario in turn on its own gateway
 * settings, its table printed as soon as it is done; then the stack stops and the checks that need the gateway's
 * logs are made; the text report is returned and the HTML report written. A scenario that throws fails with the
 * reason and the run goes on to the next.
 */
import { writeFileSync } from "node:fs";
import { EnvironmentError } from "../../lib/errors.ts";
import { check, passed } from "./checks.ts";
import type { Check, GatewayLogs, ScenarioContext, ScenarioResult } from "./model.ts";
import type { E2ePlan } from "./options.ts";
import { remoteStack } from "./remote.ts";
import { buildHtml, echartsSource } from "./report-html.ts";
import { formatReport, scenarioText, verdict } from "./report.ts";
import { startLocalStack, type Stack } from "./stack.ts";
import { Traffic } from "./traffic.ts";

/** Longest a single request may take: the toolkit's 1 s generations under a spike, with failover, on a busy box. */
const REQUEST_DEADLINE_MS = 60_000;

export interface E2eResult {
  passed: boolean;
  results: ScenarioResult[];
  runChecks: Check[];
  report: string;
  reportFile: string;
}

function runChecks(logs: GatewayLogs | undefined): Check[] {
  if (logs === undefined) return [];
  const kinds = [...logs.errorKinds.entries()].map(([k, n]) => `${k} ×${n}`).join("; ");
  return [check("no Lua error in the gateway's error log", logs.luaErrors.length === 0, "0", `${logs.luaErrors.length}${logs.luaErrors[0] !== undefined ? `: ${logs.luaErrors[0].slice(0, 200)}` : ""}${kinds !== "" ? ` ([error]+ kinds: ${kinds})` : ""}`)];
}

async function runOne(stack: Stack, traffic: Traffic, plan: E2ePlan, index: number, say: (line: string) => void): Promise<ScenarioResult> {
  const scenario = plan.scenarios[index]!;
  const started = Date.now();
  const first = traffic.peekId();
  const ids = (): ScenarioResult["ids"] => ({ first, last: traffic.peekId() - 1 });
  try {
    const names = await stack.configure(scenario.name, scenario.gateway(plan.load));
    const ctx: ScenarioContext = { stack, traffic, load: plan.load, backend: names, say };
    say(`e2e: ${scenario.name} (${plan.load}) …`);
    const r = await scenario.run(ctx);
    return { name: scenario.name, title: scenario.title, ...r, ids: ids(), durationMs: Date.now() - started };
  } catch (err) {
    if (err instanceof EnvironmentError) throw err; // the stack itself failed: exit 4, not a scenario miss
    const message = err instanceof Error ? err.message : String(err);
    return {
      name: scenario.name,
      title: scenario.title,
      load: "(did not complete)",
      table: { headers: [], rows: [] },
      checks: [check("the scenario ran to the end", false, "no error", message.slice(0, 500))],
      chart: { title: scenario.title, xName: "s", yName: "", series: [] },
      notes: [],
      ids: ids(),
      durationMs: Date.now() - started,
    };
  }
}

/**
 * An abort (Ctrl-C) stops the stack at once, so the scenario running fails fast, and the run ends with the signal's
 * reason once everything it started is stopped.
 */
export async function runE2e(plan: E2ePlan, say: (line: string) => void, signal?: AbortSignal): Promise<E2eResult> {
  const echarts = echartsSource(); // before anything starts: a missing bundle should not cost a run
  const startedAt = new Date();
  const stack = plan.remote !== undefined ? remoteStack(plan.remote) : await startLocalStack({ build: plan.build, keepLogs: plan.keepLogs }, say);
  const traffic = new Traffic(stack.gatewayUrl, stack.clients, REQUEST_DEADLINE_MS);
  const results: ScenarioResult[] = [];
  let logs: GatewayLogs | undefined;
  const onAbort = (): void => void stack.stop().catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (let i = 0; i < plan.scenarios.length; i++) {
      if (signal?.aborted === true) break;
      const r = await runOne(stack, traffic, plan, i, say);
      results.push(r);
      say(`e2e: ${r.name}: ${verdict(r.checks)} (${(r.durationMs / 1000).toFixed(1)} s)${passed(r.checks) ? "" : `\n${scenarioText(r)}`}`);
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    logs = await stack.stop();
  }
  if (signal?.aborted === true) throw signal.reason instanceof Error ? signal.reason : new Error("interrupted");
  for (const r of results) if (r.afterStop !== undefined) r.checks.push(...r.afterStop(logs));
  const header = [
    `# spillway e2e — ${startedAt.toISOString()} — --${plan.load}, ${results.length} scenario(s), took ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`,
    "",
    ...stack.describe(),
  ];
  const checks = runChecks(logs);
  const notes = [`HTML report: ${plan.reportFile}`];
  const report = formatReport({ header, results, runChecks: checks, notes });
  writeFileSync(plan.reportFile, buildHtml({ header, results, runChecks: checks, notes: [], echarts }));
  return { passed: results.every((r) => passed(r.checks)) && passed(checks), results, runChecks: checks, report, reportFile: plan.reportFile };
}
