/**
 * TEST CODE. The three monkey-patches of plugins/spillway-failover/patches.ts, on real APISIX 3.18.0 (Docker image or
 * APISIX_HOME; skipped with the reason otherwise). For each patch:
 *   - the function it wraps exists at 3.18.0 with the arguments the wrapper assumes, and after the plugins' init()
 *     the module field holds one wrapper of ours (tests/host/fixtures/patches: a lua_module_hook notes APISIX's
 *     functions when APISIX first loads each module; a probe plugin reports them);
 *   - a request shows what the patch does, and the same request with APISIX's original put back for that request
 *     (the probe's `without`) shows what 3.18.0 does without it.
 * Per-phase timeouts (patch 3) are proven with lua-resty-http, set explicitly so the Docker image (whose default is
 * ngx_http_ffi_client) runs the same thing; the probe's `client` shapes stand in for a client object that cannot take
 * per-phase timeouts (docs/provider.md, "The three patches").
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { APISIX_VERSION, apisixAvailability, startApisix } from "../rig/apisix.ts";
import { parseAccessLog, reportLogsOnFailure, severeLines, type AccessLogEntry, type Gateway } from "../rig/gateway.ts";
import { repoRoot } from "../helpers/lua.ts";
import { dynamicInstance, SIM_KEY } from "../scenarios/provider.ts";
import { startSimulator, type FaultSpec, type SimulatorHandle } from "../../scripts/simulator/index.ts";

const WORKERS = 1;
const CHAT = "/openai/v1/chat/completions";
const FIXTURES = path.join(repoRoot, "tests/host/fixtures/patches");
/** The route's ai-proxy-multi `timeout`: without patch 3 it is the connect, send and first-byte limit alike. */
const ROUTE_TIMEOUT_MS = 3000;
/** Our per-phase limits on the timeout routes: far below ROUTE_TIMEOUT_MS, so the two are told apart on a busy box. */
const PHASE_TIMEOUT_MS = 300;
/** A cut at PHASE_TIMEOUT_MS plus a second backend's answer stays under this even on a loaded 2-core machine. */
const FAST_ENOUGH_MS = 2000;
/** A cut at ROUTE_TIMEOUT_MS can come late but never early (nginx timers do not fire ahead). */
const ROUTE_TIMEOUT_FLOOR_MS = ROUTE_TIMEOUT_MS - 100;
/** Bigger than what loopback TCP buffers take (tcp_wmem max 4 MiB + the receiver's window): the send must stall. */
const STALLING_BODY_BYTES = 10 * 1024 * 1024;
const DRIP_INTERVAL_MS = 700;

/** Error lines that are the faults under test, not gateway faults. */
const TIMEOUT_LOG = /timed out/;
/** APISIX 3.18's own error line when ai-proxy-multi has no instance left (ai-proxy-multi.lua retry_on_error). */
const ALL_TRIED_LOG = /failed to pick new AI instance: all servers tried/;

/** One deployment per case: cooldowns are keyed per backend and deployment and last for the whole suite. */
const CASE_MODELS = [
  "p1-with", "p1-without", "p2-with", "p2-without", "connect-with", "connect-without", "fb-with", "fb-without",
  "idle", "shape-userdata", "shape-no-set-timeouts", "reload-p1", "reload-p2", "reload-fb",
];
const DEPLOYMENTS = Object.fromEntries(CASE_MODELS.map((m) => [m, { model: "gpt-4o", tpm: 100_000_000 }]));

type Slot = "transport_request" | "before_proxy" | "http_new";
interface Probe {
  report?: boolean;
  without?: Slot;
  client?: "lua-resty-http" | "userdata" | "no-set-timeouts";
  reload?: boolean;
}

const instance = (name: string, priority: number, endpoint: string) => dynamicInstance(name, priority, endpoint);

/** A chat route picked by the request header x-patch-probe: <id>. */
function chatRoute(id: string, instances: Record<string, unknown>[], failover: Record<string, unknown>, probe: Probe = {}) {
  return {
    id,
    uri: CHAT,
    priority: 10,
    vars: [["http_x_patch_probe", "==", id]],
    plugins: {
      "spillway-patches-probe": probe,
      "spillway-failover": { default_429_cooldown_ms: 2000, ...failover },
      "ai-proxy-multi": {
        fallback_strategy: ["http_429", "http_5xx"],
        timeout: ROUTE_TIMEOUT_MS,
        streaming_flush_interval_ms: 0,
        instances,
      },
    },
  };
}

interface Backends {
  primary: SimulatorHandle;
  secondary: SimulatorHandle;
  drip: SimulatorHandle;
  /** A listener whose accept queue is full: connects hang (SYNs are dropped). */
  blackhole: { port: number; stop: () => void };
  /** Accepts and never reads: a big request body stalls in the send. */
  sink: { port: number; stop: () => Promise<void> };
}

function apisixYaml(b: Backends): unknown {
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const pair = [instance("primary", 10, b.primary.url), instance("secondary", 0, b.secondary.url)];
  // Each route shortens only the phase under test; the others keep their defaults (10 s send, 60 s first byte),
  // above the route's timeout, so a cut at PHASE_TIMEOUT_MS can only come from that phase.
  const connect = { connect_timeout_ms: PHASE_TIMEOUT_MS };
  const send = { send_timeout_ms: PHASE_TIMEOUT_MS };
  const firstByte = { first_byte_timeout_ms: PHASE_TIMEOUT_MS };
  const blackholePair = [instance("blackhole", 10, url(b.blackhole.port)), instance("secondary", 0, b.secondary.url)];
  const sinkOnly = [instance("sink", 10, url(b.sink.port))];
  return {
    routes: [
      { id: "report", uri: "/probe/patches", plugins: { "spillway-patches-probe": { report: true } } },
      { id: "reload", uri: "/probe/reload", plugins: { "spillway-patches-probe": { reload: true } } },
      chatRoute("with", pair, {}),
      chatRoute("without-transport", pair, {}, { without: "transport_request" }),
      chatRoute("without-before-proxy", pair, {}, { without: "before_proxy" }),
      chatRoute("connect", blackholePair, connect),
      chatRoute("connect-without-new", blackholePair, connect, { without: "http_new" }),
      chatRoute("send", sinkOnly, send),
      chatRoute("send-without-new", sinkOnly, send, { without: "http_new" }),
      chatRoute("first-byte", pair, firstByte),
      chatRoute("first-byte-without-new", pair, firstByte, { without: "http_new" }),
      chatRoute("idle", [instance("drip", 10, b.drip.url)], firstByte),
      chatRoute("userdata-client", pair, firstByte, { client: "userdata" }),
      chatRoute("no-set-timeouts-client", pair, firstByte, { client: "no-set-timeouts" }),
    ],
  };
}

const CONFIG_YAML = {
  apisix: { lua_module_hook: "spillway_patches_probe_hook" },
  nginx_config: { http: { custom_lua_shared_dict: { "spillway-cooldown": "1m" } } },
  // The same client on both hosts (the official image defaults to ngx_http_ffi_client, the lab cannot run it).
  plugin_attr: { "ai-proxy": { http_client: "lua-resty-http" } },
};

/**
 * Perl (always on Debian) holds a listen(0) socket it never accepts on, its queue filled by its own connects; it
 * exits when its stdin closes, so it cannot outlive the test process.
 */
const BLACKHOLE_PL = `
use strict; use Socket; use IO::Handle; use Fcntl;
socket(my $l, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
bind($l, sockaddr_in(0, INADDR_LOOPBACK)) or die "bind: $!";
listen($l, 0) or die "listen: $!";
my ($port) = sockaddr_in(getsockname($l));
my @fill;
for (1..3) { socket(my $c, PF_INET, SOCK_STREAM, 0); fcntl($c, F_SETFL, O_NONBLOCK); connect($c, sockaddr_in($port, INADDR_LOOPBACK)); push @fill, $c; }
STDOUT->autoflush(1); print "$port\\n";
my $eof = <STDIN>;
`;

async function startBlackhole(): Promise<Backends["blackhole"]> {
  const child: ChildProcess = spawn("perl", ["-e", BLACKHOLE_PL], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (d: Buffer) => resolve(Number.parseInt(d.toString(), 10)));
  });
  return { port, stop: () => void child.kill("SIGKILL") };
}

async function startSink(): Promise<Backends["sink"]> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ pauseOnConnect: true }, (s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
  ms: number;
}

async function send(gw: Gateway, probeRoute: string, body: unknown): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(gw.url + CHAT, {
    method: "POST",
    headers: { "content-type": "application/json", "x-patch-probe": probeRoute },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text, ms: performance.now() - started };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 5, ...extra });

/** Requests each simulator received for this deployment so far. */
function callsTo(sim: SimulatorHandle, model: string): number {
  return sim.requests().filter((r) => (r.body as { model?: string } | undefined)?.model === model).length;
}

interface SlotReport {
  module: string;
  field: string;
  apisix: { type: string; nparams?: number; isvararg?: boolean; source?: string };
  installed: { type: string; nparams?: number; isvararg?: boolean; source?: string };
  replaced: boolean;
  /** Wrappers of ours stacked in the slot (1: one around APISIX's function). */
  layers: number;
}
interface ProbeReport {
  slots: Record<Slot, SlotReport>;
  pending_phase_timeouts: number | null;
}

const availability = await apisixAvailability();
const TITLE = `patches.ts on real APISIX ${APISIX_VERSION}`;

if (!availability.ok) {
  describe.skip(`${TITLE} — skipped: ${availability.reason}`, () => {
    it("patch 1 (ai-transport/http.request): exists at 3.18.0, is replaced, and records every attempt", () => {});
    it("patch 2 (ai-proxy-multi.before_proxy): exists at 3.18.0, is replaced, and answers 429 + Retry-After", () => {});
    it("patch 3 (utils/http.new): exists at 3.18.0, is replaced, and sets connect/send/first-byte timeouts", () => {});
  });
} else {
  describe(`${TITLE} (${availability.mode}, ${WORKERS} worker${WORKERS === 1 ? "" : "s"}, lua-resty-http)`, () => {
    let gw: Gateway | undefined;
    let dir: string | undefined;
    let b: Backends;

    async function probeReport(): Promise<ProbeReport> {
      const res = await fetch(`${gw!.url}/probe/patches`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      return (await res.json()) as ProbeReport;
    }

    /** Runs `fn` and checks it added no [error]/[crit] line to the gateway log except the allowed ones. */
    async function withLogCheck<T>(allow: RegExp[], fn: () => Promise<T>): Promise<T> {
      const start = gw!.errorLog().length;
      const out = await fn();
      // The log line of a request can land just after its response.
      await new Promise((r) => setTimeout(r, 100));
      expect(severeLines(gw!.errorLog().slice(start), allow), "unexpected [error]/[crit] lines").toEqual([]);
      return out;
    }

    /** The access-log entry of the request that followed `before` entries (nginx writes it after the response). */
    async function accessEntryAfter(before: number): Promise<AccessLogEntry> {
      const deadline = Date.now() + 3000;
      for (;;) {
        const entries = parseAccessLog(gw!.accessLog());
        if (entries.length > before) return entries[before]!;
        if (Date.now() > deadline) throw new Error("no access-log entry appeared for this request");
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    function faults(sim: SimulatorHandle, list: FaultSpec[]): void {
      sim.clearFaults();
      if (list.length > 0) sim.setFaults(list);
    }

    beforeAll(async () => {
      const sim = (name: string, streamIntervalMs = 5) =>
        startSimulator({ name, apiKey: SIM_KEY, deployments: DEPLOYMENTS, latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs }, requestLogSize: 10_000 });
      b = {
        primary: await sim("primary"),
        secondary: await sim("secondary"),
        drip: await sim("drip", DRIP_INTERVAL_MS),
        blackhole: await startBlackhole(),
        sink: await startSink(),
      };
      dir = mkdtempSync(path.join(tmpdir(), "spillway-patches-"));
      const apisixPath = path.join(dir, "apisix.yaml");
      const configPath = path.join(dir, "config.yaml");
      writeFileSync(apisixPath, `${stringify(apisixYaml(b), { version: "1.1" })}#END\n`);
      writeFileSync(configPath, stringify(CONFIG_YAML, { version: "1.1" }));
      gw = await startApisix({ apisixYaml: apisixPath, configYaml: configPath, luaPaths: [FIXTURES], workers: WORKERS }, availability);
    });

    afterAll(async () => {
      await gw?.stop();
      await Promise.all([b?.primary.stop(), b?.secondary.stop(), b?.drip.stop(), b?.sink.stop()]);
      b?.blackhole.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it("starts without errors", () => {
      expect(severeLines(gw!.errorLog()), "unexpected [error]/[crit] lines at startup").toEqual([]);
    });

    describe("what each patch wraps exists at 3.18.0 with the shape the wrapper assumes, and is replaced by init()", () => {
      const expected: [Slot, RegExp, number][] = [
        ["transport_request", /apisix\/plugins\/ai-transport\/http\.lua$/, 2], // _M.request(params, timeout)
        ["before_proxy", /apisix\/plugins\/ai-proxy-multi\.lua$/, 2], // _M.before_proxy(conf, ctx)
        ["http_new", /apisix\/utils\/http\.lua$/, 1], // _M.new(name)
      ];
      for (const [slot, file, nparams] of expected) {
        it(`${slot}: APISIX's own function of ${nparams} fixed argument(s), replaced by spillway-failover's wrapper of the same arity`, async () => {
          const s = (await probeReport()).slots[slot];
          expect(s.apisix).toMatchObject({ type: "function", nparams, isvararg: false });
          expect(s.apisix.source).toMatch(file);
          expect(s.replaced).toBe(true);
          expect(s.installed).toMatchObject({ type: "function", nparams, isvararg: false });
          expect(s.installed.source).toMatch(/apisix\/plugins\/spillway-failover\.lua$/);
          expect(s.layers, "wrappers of ours around APISIX's function").toBe(1);
        });
      }
    });

    describe("patch 1: ai-transport/http.request sees every attempt", () => {
      it("with it: a 429 cools the backend, and the next request skips it without a network call", async () => {
        faults(b.primary, [{ kind: "status", status: 429, retryAfterMs: 3000, deployment: "p1-with" }]);
        const first = await withLogCheck([], () => send(gw!, "with", chat("p1-with")));
        expect(first.status).toBe(200);
        expect(first.headers.get("x-gw-backend")).toBe("secondary");
        expect(first.headers.get("x-gw-attempts")).toBe("2");
        const primaryBefore = callsTo(b.primary, "p1-with");
        const second = await withLogCheck([], () => send(gw!, "with", chat("p1-with")));
        expect(second.status).toBe(200);
        expect(second.headers.get("x-gw-backend")).toBe("secondary");
        expect(second.headers.get("x-gw-attempts")).toBe("1");
        expect(callsTo(b.primary, "p1-with") - primaryBefore, "requests the cooling primary received").toBe(0);
      });

      it("without it (3.18.0's own transport): the same 429 is not seen, and the throttled backend is called again", async () => {
        faults(b.primary, [{ kind: "status", status: 429, retryAfterMs: 3000, deployment: "p1-without" }]);
        const first = await withLogCheck([], () => send(gw!, "without-transport", chat("p1-without")));
        // 3.18 falls back on 429 by itself; what it cannot do is remember it.
        expect(first.status).toBe(200);
        expect(first.headers.get("x-gw-backend")).toBe("secondary");
        const primaryBefore = callsTo(b.primary, "p1-without");
        const second = await withLogCheck([], () => send(gw!, "without-transport", chat("p1-without")));
        expect(second.status).toBe(200);
        expect(callsTo(b.primary, "p1-without") - primaryBefore, "requests the throttled primary received").toBe(1);
      });
    });

    describe("patch 2: ai-proxy-multi.before_proxy answers when every backend failed", () => {
      const bothThrottled = (model: string) => {
        faults(b.primary, [{ kind: "status", status: 429, retryAfterMs: 3000, deployment: model }]);
        faults(b.secondary, [{ kind: "status", status: 429, retryAfterMs: 5000, deployment: model }]);
      };

      it("with it: 429 with Retry-After and an OpenAI-shape error", async () => {
        bothThrottled("p2-with");
        const res = await withLogCheck([ALL_TRIED_LOG], () => send(gw!, "with", chat("p2-with")));
        expect(res.status).toBe(429);
        expect(res.headers.get("retry-after")).toBe("3");
        expect(res.headers.get("retry-after-ms")).toMatch(/^(29\d\d|3000)$/);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: "429", type: "rate_limit_exceeded" } });
        faults(b.secondary, []);
      });

      it("without it (3.18.0's own before_proxy): 502 with the last backend's body, and no Retry-After", async () => {
        bothThrottled("p2-without");
        const res = await withLogCheck([ALL_TRIED_LOG], () => send(gw!, "without-before-proxy", chat("p2-without")));
        expect(res.status).toBe(502);
        expect(res.headers.get("retry-after")).toBeNull();
        // The secondary simulator's own 429 body, relayed as the 502's body (ai-proxy-multi.lua retry_on_error).
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: "429" } });
        faults(b.secondary, []);
      });
    });

    describe("patch 3: utils/http.new gives our attempts connect/send/first-byte timeouts (lua-resty-http)", () => {
      it(`with it: a connect that hangs is abandoned after connect_timeout_ms (${PHASE_TIMEOUT_MS} ms) for the next backend`, async () => {
        const res = await withLogCheck([TIMEOUT_LOG], () => send(gw!, "connect", chat("connect-with")));
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("secondary");
        expect(res.ms).toBeLessThan(FAST_ENOUGH_MS);
      });

      it(`without it: the same connect waits for the route's timeout (${ROUTE_TIMEOUT_MS} ms)`, async () => {
        const res = await withLogCheck([TIMEOUT_LOG], () => send(gw!, "connect-without-new", chat("connect-without")));
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("secondary");
        expect(res.ms).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_FLOOR_MS);
      });

      const stallingBody = (model: string) => JSON.stringify(chat(model, { messages: [{ role: "user", content: "x".repeat(STALLING_BODY_BYTES) }] }));

      // Timed inside the gateway ($apisix_upstream_response_time: the attempt, from base.lua's per-attempt clock):
      // uploading and decoding 10 MiB is not the gateway's wait and can take a second on a busy machine.
      it(`with it: a send the backend never reads is cut after send_timeout_ms (${PHASE_TIMEOUT_MS} ms): 504`, async () => {
        const before = parseAccessLog(gw!.accessLog()).length;
        const res = await withLogCheck([TIMEOUT_LOG, ALL_TRIED_LOG], () => send(gw!, "send", stallingBody("send-with")));
        expect(res.status).toBe(504);
        expect(Number((await accessEntryAfter(before)).apisix_upstream_response_time)).toBeLessThan(FAST_ENOUGH_MS);
      });

      it(`without it: the same send waits for the route's timeout (${ROUTE_TIMEOUT_MS} ms)`, async () => {
        const before = parseAccessLog(gw!.accessLog()).length;
        const res = await withLogCheck([TIMEOUT_LOG, ALL_TRIED_LOG], () => send(gw!, "send-without-new", stallingBody("send-without")));
        expect(res.status).toBe(504);
        expect(res.ms).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_FLOOR_MS);
        expect(Number((await accessEntryAfter(before)).apisix_upstream_response_time)).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_FLOOR_MS);
      });

      const slowFirstByte = (model: string) =>
        faults(b.primary, [{ kind: "slow-first-byte", delayMs: 2 * ROUTE_TIMEOUT_MS, times: 1, deployment: model }]);

      it(`with it: a backend slow to its first byte is abandoned after first_byte_timeout_ms (${PHASE_TIMEOUT_MS} ms)`, async () => {
        slowFirstByte("fb-with");
        const res = await withLogCheck([TIMEOUT_LOG], () => send(gw!, "first-byte", chat("fb-with")));
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("secondary");
        expect(res.headers.get("x-gw-attempts")).toBe("2");
        expect(res.ms).toBeLessThan(FAST_ENOUGH_MS);
      });

      it(`without it: the same backend is abandoned only at the route's timeout (${ROUTE_TIMEOUT_MS} ms)`, async () => {
        slowFirstByte("fb-without");
        const res = await withLogCheck([TIMEOUT_LOG], () => send(gw!, "first-byte-without-new", chat("fb-without")));
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("secondary");
        expect(res.ms).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_FLOOR_MS);
      });

      it(`once the headers are in, the route's timeout is the idle limit: a stream with ${DRIP_INTERVAL_MS} ms gaps is not cut at first_byte_timeout_ms`, async () => {
        const res = await withLogCheck([], () => send(gw!, "idle", chat("idle", { stream: true, max_tokens: 3 })));
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("drip");
        expect(res.body).toContain("data: [DONE]");
        expect(res.ms).toBeGreaterThanOrEqual(2 * DRIP_INTERVAL_MS);
      });
    });

    describe("a client object that cannot take per-phase timeouts (how a client like ngx_http_ffi_client could be)", () => {
      for (const shape of ["userdata", "no-set-timeouts"] as const) {
        it(`${shape}: the attempt keeps the route's single timeout, one warning is logged, nothing is left behind`, async () => {
          const model = `shape-${shape}`;
          const warning = /spillway-failover: this HTTP client cannot take per-phase timeouts/g;
          const warningsBefore = (gw!.errorLog().match(warning) ?? []).length;
          faults(b.primary, [{ kind: "slow-first-byte", delayMs: 2 * ROUTE_TIMEOUT_MS, times: 1, deployment: model }]);
          const res = await withLogCheck([TIMEOUT_LOG], () => send(gw!, `${shape}-client`, chat(model)));
          expect(res.status).toBe(200);
          expect(res.headers.get("x-gw-backend")).toBe("secondary");
          expect(res.ms).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_FLOOR_MS);
          expect((gw!.errorLog().match(warning) ?? []).length - warningsBefore).toBeLessThanOrEqual(1);
          expect(gw!.errorLog()).toMatch(warning);
          expect((await probeReport()).pending_phase_timeouts).toBe(0);
        });
      }
    });
    describe("after a plugin reload (what the control API's PUT /v1/plugins/reload runs)", () => {
      it("the wrappers are installed again on the reloaded modules and still act", async () => {
        const res = await fetch(`${gw!.url}/probe/reload`, { signal: AbortSignal.timeout(10_000) });
        expect(res.status).toBe(200);
        await new Promise((r) => setTimeout(r, 300)); // the probe looks at the slots from a timer after init()
        const { slots } = await probeReport();
        for (const slot of Object.values(slots)) expect(slot.installed.source).toMatch(/apisix\/plugins\/spillway-failover\.lua$/);
        // ai-proxy-multi is a plugin: reloaded, it is a new module table, wrapped once by the reloaded bundle.
        expect(slots.before_proxy.layers).toBe(1);
        // The transport and utils/http are not plugins and stay loaded, while our bundle (patches.ts inside) runs
        // again: it wraps APISIX's own function, which it marked on the module, not its previous wrapper.
        expect(slots.transport_request.layers).toBe(1);
        expect(slots.http_new.layers).toBe(1);
        faults(b.primary, [{ kind: "status", status: 429, retryAfterMs: 3000, deployment: "reload-p2" }]);
        faults(b.secondary, [{ kind: "status", status: 429, retryAfterMs: 5000, deployment: "reload-p2" }]);
        const throttled = await withLogCheck([ALL_TRIED_LOG], () => send(gw!, "with", chat("reload-p2")));
        expect(throttled.status).toBe(429);
        expect(throttled.headers.get("retry-after")).toBe("3");
        faults(b.secondary, []);
        faults(b.primary, [{ kind: "status", status: 429, retryAfterMs: 3000, deployment: "reload-p1" }]);
        await withLogCheck([], () => send(gw!, "with", chat("reload-p1")));
        const primaryBefore = callsTo(b.primary, "reload-p1");
        const second = await withLogCheck([], () => send(gw!, "with", chat("reload-p1")));
        expect(second.headers.get("x-gw-attempts")).toBe("1");
        expect(callsTo(b.primary, "reload-p1") - primaryBefore).toBe(0);
        faults(b.primary, [{ kind: "slow-first-byte", delayMs: 2 * ROUTE_TIMEOUT_MS, times: 1, deployment: "reload-fb" }]);
        const slow = await withLogCheck([TIMEOUT_LOG], () => send(gw!, "first-byte", chat("reload-fb")));
        expect(slow.headers.get("x-gw-backend")).toBe("secondary");
        expect(slow.ms).toBeLessThan(FAST_ENOUGH_MS);
      });
    });
  });
}
