/**
 * TEST CODE. Runs scenario suites (data in tests/scenarios/*.ts) against one host: starts the suite's fake upstreams,
 * writes its apisix.yaml (with #END), starts the gateway through the host, and turns every case into a vitest test
 * that checks the response, what the upstreams received, the error log (house style §21) and the access log.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toApisixYaml } from "../rig/apisix-yaml.ts";
import { parseAccessLog, reportLogsOnFailure, severeLines, type Gateway, type GatewayOptions } from "../rig/gateway.ts";
import { repoRoot } from "../helpers/lua.ts";
import { startUpstream, type FakeUpstream } from "../rig/upstreams.ts";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { streamTimingProblems } from "./stream-timing.ts";
import type { DeclaredUpstream, HeaderExpectation, ScenarioCase, ScenarioHostName, ScenarioSuite } from "./types.ts";

export interface ScenarioHost {
  name: ScenarioHostName;
  /** Shown in describe titles, e.g. "nginx stand-in" or "real APISIX 3.18.0 (docker)". */
  title: string;
  start(opts: GatewayOptions): Promise<Gateway>;
  /** nginx worker processes (default 1); cases with `acrossWorkers` check that several of them served. */
  workers?: number;
  /** Error lines this host produces regardless of the scenario (kept empty unless explained). */
  ignoredErrors?: RegExp[];
}

const ACCESS_LOG_WAIT_MS = 3000;

/**
 * A simulator seen through the FakeUpstream interface: `requests` is what it received (method, path + query,
 * headers as it logged them, raw JSON body). Its handle stays reachable for faults and resets.
 */
async function startSimulatedUpstream(name: string, decl: Extract<DeclaredUpstream, { behaviour: "simulator" }>) {
  const sim = await startSimulator({
    name,
    apiKey: decl.apiKey,
    deployments: decl.deployments,
    latency: decl.latency,
    region: decl.region,
    requestLogSize: 100_000,
  });
  const upstream: FakeUpstream & { simulator: SimulatorHandle } = {
    behaviour: "echo",
    simulator: sim,
    port: sim.port,
    hostPort: `127.0.0.1:${sim.port}`,
    url: sim.url,
    get requests() {
      return sim.requests().map((r) => {
        const query = new URLSearchParams(r.query).toString();
        return {
          method: r.method,
          path: query ? `${r.path}?${query}` : r.path,
          headers: r.headers,
          body: typeof r.body === "string" ? r.body : JSON.stringify(r.body),
        };
      });
    },
    responses: [],
    closedEarly: () => 0,
    connections: () => 0,
    close: () => sim.stop(),
  };
  return upstream;
}

function simulatorOf(ups: Record<string, FakeUpstream>, name: string): SimulatorHandle {
  const sim = (ups[name] as { simulator?: SimulatorHandle } | undefined)?.simulator;
  if (!sim) throw new Error(`scenario names '${name}' as a simulator, but it is not declared as one`);
  return sim;
}

/** Replaces {{upstream.<name>.hostPort|url}} in every string of a document. */
export function substitute(doc: unknown, upstreams: Record<string, FakeUpstream>): unknown {
  if (typeof doc === "string") {
    return doc.replace(/\{\{upstream\.([\w-]+)\.(hostPort|url|port)\}\}/g, (_m, name: string, field: "hostPort" | "url" | "port") => {
      const up = upstreams[name];
      if (!up) throw new Error(`scenario references undeclared upstream '${name}'`);
      return String(up[field]);
    });
  }
  if (Array.isArray(doc)) return doc.map((d) => substitute(d, upstreams));
  if (doc && typeof doc === "object") {
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [substitute(k, upstreams) as string, substitute(v, upstreams)]));
  }
  return doc;
}

function checkHeaders(actual: (name: string) => string | null, expected: Record<string, HeaderExpectation>, what: string): void {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual(name);
    if (want === null) expect(got, `${what} header ${name} must be absent`).toBeNull();
    else if (want instanceof RegExp) expect(got ?? "", `${what} header ${name}`).toMatch(want);
    else expect(got, `${what} header ${name}`).toBe(want);
  }
}

function forwardedHeader(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(", ") : v;
}

interface Sent {
  status: number;
  headers: Headers;
  body: string;
  clientBody: string | undefined;
  /** For streamed bodies: the time (ms since the request) each SSE event arrived. */
  eventTimes: number[];
  eventChunks: number;
}

/**
 * One request on a new connection (no keep-alive agent): with several nginx workers, each case may land on any of
 * them, so state that must be shared by workers (cooldowns, affinity) is exercised across workers.
 */
async function send(gw: Gateway, c: ScenarioCase): Promise<Sent> {
  const headers: Record<string, string> = { ...c.request.headers };
  let body: string | undefined;
  if (c.request.body !== undefined) {
    body = typeof c.request.body === "string" ? c.request.body : JSON.stringify(c.request.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const started = performance.now();
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(gw.url + c.request.path, { method: c.request.method ?? (body ? "POST" : "GET"), headers, agent: false, timeout: 15_000 }, resolve);
    req.on("timeout", () => req.destroy(new Error("no answer within 15 s")));
    req.on("error", reject);
    req.end(body);
  });
  const eventTimes: number[] = [];
  let eventChunks = 0;
  let text = "";
  const decoder = new TextDecoder();
  for await (const value of res as AsyncIterable<Buffer>) {
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    const events = chunk.split("\n\n").filter((e) => e.startsWith("data:")).length;
    if (events > 0) eventChunks++;
    for (let i = 0; i < events; i++) eventTimes.push(performance.now() - started);
  }
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
  }
  return { status: res.statusCode ?? 0, headers: responseHeaders, body: text, clientBody: body, eventTimes, eventChunks };
}

function checkResponse(sent: Sent, c: ScenarioCase, ups: Record<string, FakeUpstream>): void {
  const e = c.expect;
  expect(sent.status, `status (body: ${sent.body.slice(0, 300)})`).toBe(e.status);
  if (e.headers) checkHeaders((n) => sent.headers.get(n), e.headers, "response");
  if (e.json !== undefined) expect(JSON.parse(sent.body)).toMatchObject(e.json as object);
  for (const s of e.bodyIncludes ?? []) expect(sent.body).toContain(s);
  for (const s of e.bodyExcludes ?? []) expect(sent.body).not.toContain(s);
  if (e.bodyEquals !== undefined) expect(sent.body).toBe(e.bodyEquals);
  if (e.bodyEqualsUpstream !== undefined) {
    const up = ups[e.bodyEqualsUpstream]!;
    expect(sent.body, `client body vs what '${e.bodyEqualsUpstream}' sent`).toBe(up.responses[up.responses.length - 1]);
  }
}

/**
 * The gateway's access-log count the runner expects: its count when the suite started plus one entry per request
 * the runner sent. nginx writes an entry after the response went out, so the previous case's entry can land after
 * the next case started; a case first waits for it (bounded), else it would read the previous request's entry.
 */
interface AccessLedger {
  base: number;
  sent: number;
}

async function settleAccessLog(gw: Gateway, ledger: AccessLedger): Promise<number> {
  const deadline = Date.now() + ACCESS_LOG_WAIT_MS;
  for (;;) {
    const n = parseAccessLog(gw.accessLog()).length;
    if (n >= ledger.base + ledger.sent || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function newAccessEntry(gw: Gateway, before: number) {
  const deadline = Date.now() + ACCESS_LOG_WAIT_MS;
  for (;;) {
    const entries = parseAccessLog(gw.accessLog());
    if (entries.length > before) return entries[entries.length - 1]!;
    if (Date.now() > deadline) throw new Error("no access-log entry appeared for this request");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The `count` access-log entries written after `before` (waits for them like newAccessEntry). */
async function accessEntries(gw: Gateway, before: number, count: number) {
  const deadline = Date.now() + ACCESS_LOG_WAIT_MS;
  for (;;) {
    const entries = parseAccessLog(gw.accessLog()).slice(before);
    if (entries.length >= count) return entries;
    if (Date.now() > deadline) throw new Error(`only ${entries.length} of ${count} access-log entries appeared`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Replaces {{var.<name>}} in the request path and in every string of the request body. */
function withVars(c: ScenarioCase, vars: Record<string, string>): ScenarioCase {
  const fill = (text: string) => text.replace(/\{\{var\.(\w+)\}\}/g, (_m, k: string) => {
    if (vars[k] === undefined) throw new Error(`case '${c.name}' uses {{var.${k}}}, which no earlier case captured`);
    return vars[k]!;
  });
  const body = c.request.body;
  const filled = typeof body === "string" ? fill(body) : body === undefined ? undefined : JSON.parse(fill(JSON.stringify(body)));
  return { ...c, request: { ...c.request, path: fill(c.request.path), body: filled } };
}

async function runCase(
  gw: Gateway,
  ups: Record<string, FakeUpstream>,
  c: ScenarioCase,
  host: ScenarioHost,
  ledger: AccessLedger,
  vars: Record<string, string>,
  /** The suite's expected configuration errors: with several workers, a later worker may log them mid-suite. */
  startupErrors: RegExp[],
): Promise<void> {
  for (const name of c.resetSimulators ?? []) simulatorOf(ups, name).reset();
  for (const [name, faults] of Object.entries(c.faults ?? {})) {
    const sim = simulatorOf(ups, name);
    if (faults.length === 0) sim.clearFaults();
    else sim.setFaults(faults);
  }
  if (c.waitMs) await new Promise((r) => setTimeout(r, c.waitMs));
  if (c.setup) {
    const sims = Object.fromEntries(Object.keys(ups).flatMap((n) => {
      const s = (ups[n] as { simulator?: SimulatorHandle }).simulator;
      return s ? [[n, s]] : [];
    }));
    Object.assign(vars, await c.setup(sims));
  }
  c = withVars(c, vars);
  const accessBefore = await settleAccessLog(gw, ledger);
  const logStart = gw.errorLog().length;
  const callsBefore = Object.fromEntries(Object.entries(ups).map(([n, u]) => [n, u.requests.length]));

  let sent: Sent | undefined;
  for (let i = 0; i < (c.repeat ?? 1); i++) {
    ledger.sent++;
    sent = await send(gw, c);
    checkResponse(sent, c, ups);
    for (const [name, re] of Object.entries(c.capture ?? {})) {
      const m = re.exec(sent.body);
      if (!m?.[1]) throw new Error(`case '${c.name}': nothing to capture for '${name}' with ${re}`);
      vars[name] = m[1];
    }
  }
  if (!sent) throw new Error(`case '${c.name}': repeat must be at least 1`);

  if (c.upstreamCalls) {
    for (const [name, n] of Object.entries(c.upstreamCalls)) {
      expect(ups[name]!.requests.length - callsBefore[name]!, `requests received by upstream '${name}'`).toBe(n);
    }
  }
  if (c.forwarded) {
    const f = c.forwarded;
    const up = ups[f.upstream]!;
    expect(up.requests.length, `upstream '${f.upstream}' received nothing`).toBeGreaterThan(callsBefore[f.upstream]!);
    const got = up.requests[up.requests.length - 1]!;
    if (f.method) expect(got.method).toBe(f.method);
    if (f.path) expect(got.path).toBe(f.path);
    if (f.headers) checkHeaders((n) => forwardedHeader(got.headers, n), f.headers, `forwarded (${f.upstream})`);
    if (f.bodyEqualsClient) expect(got.body).toBe(sent.clientBody);
    if (f.json !== undefined) expect(JSON.parse(got.body)).toMatchObject(f.json as object);
  }
  if (c.stream) {
    const s = c.stream;
    expect(sent.eventChunks, "SSE events arrived in separate network chunks").toBeGreaterThanOrEqual(s.minChunks);
    expect(streamTimingProblems(sent.eventTimes, s), "stream timing").toEqual([]);
  }
  if (c.acrossWorkers && (host.workers ?? 1) > 1) {
    const repeats = c.repeat ?? 1;
    const entries = await accessEntries(gw, accessBefore, repeats);
    const pids = new Set(entries.map((e) => e.pid));
    expect(pids.size, `the ${repeats} requests were served by ${pids.size} of ${host.workers} workers (pids ${[...pids].join(", ")})`).toBeGreaterThan(1);
  }
  if (c.accessLog) {
    const entry = await newAccessEntry(gw, accessBefore);
    for (const [k, want] of Object.entries(c.accessLog)) {
      const got = entry[k as keyof typeof entry];
      if (want instanceof RegExp) expect(got, `access log ${k}`).toMatch(want);
      else expect(got, `access log ${k}`).toBe(want);
    }
  }

  const added = gw.errorLog().slice(logStart);
  for (const re of c.errorLog ?? []) expect(added, `error log line ${re}`).toMatch(re);
  for (const secret of c.errorLogExcludes ?? []) expect(added.includes(secret), `error log must not contain ${secret}`).toBe(false);
  const allowed = [...(c.errorLog ?? []), ...(c.allowErrors ?? []), ...(host.ignoredErrors ?? []), ...startupErrors];
  expect(severeLines(added, allowed), "unexpected [error]/[crit] lines in the gateway error log").toEqual([]);
}

/** Registers one describe block per suite, with one test per case. */
export function runScenarioSuites(host: ScenarioHost, suites: ScenarioSuite[]): void {
  for (const suite of suites) {
    describe(`${suite.name} [${host.title}]`, () => {
      let gw: Gateway | undefined;
      let dir: string | undefined;
      const ups: Record<string, FakeUpstream> = {};
      const ledger: AccessLedger = { base: 0, sent: 0 };
      /** Values captured by earlier cases of this suite (ScenarioCase.capture). */
      const vars: Record<string, string> = {};

      beforeAll(async () => {
        for (const [name, decl] of Object.entries(suite.upstreams)) {
          ups[name] = decl.behaviour === "simulator" ? await startSimulatedUpstream(name, decl) : await startUpstream(decl.behaviour, decl);
        }
        dir = mkdtempSync(path.join(tmpdir(), "spillway-scenario-"));
        const apisixYaml = path.join(dir, "apisix.yaml");
        // YAML 1.1, as the renderer writes: APISIX reads YAML 1.1, where a bare yes/no/on/off is a boolean.
        writeFileSync(apisixYaml, toApisixYaml(substitute(suite.apisixYaml, ups)));
        let configYaml: string | undefined;
        if (suite.configYaml) {
          configYaml = path.join(dir, "config.yaml");
          writeFileSync(configYaml, toApisixYaml(substitute(suite.configYaml, ups), false));
        }
        const luaPaths = suite.luaPaths?.map((p) => path.join(repoRoot, p));
        gw = await host.start({ apisixYaml, configYaml, env: suite.env, luaPaths });
        ledger.base = parseAccessLog(gw.accessLog()).length;
      });

      afterAll(async () => {
        await gw?.stop();
        await Promise.all(Object.values(ups).map((u) => u.close()));
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

      it(suite.startupErrors ? "logs the configuration errors at startup, and nothing else" : "starts without errors", () => {
        const log = gw!.errorLog();
        for (const re of suite.startupErrors ?? []) expect(log).toMatch(re);
        const allowed = [...(suite.startupErrors ?? []), ...(host.ignoredErrors ?? [])];
        expect(severeLines(log, allowed), "unexpected [error]/[crit] lines at startup").toEqual([]);
      });

      for (const c of suite.cases) {
        const skip = c.skipOn?.[host.name] ?? ((host.workers ?? 1) > 1 ? c.oneWorkerOnly : undefined);
        if (skip) it.skip(`${c.name} — skipped on ${host.name}: ${skip}`, () => {});
        else it(c.name, () => runCase(gw!, ups, c, host, ledger, vars, suite.startupErrors ?? []));
      }
    });
  }
}
