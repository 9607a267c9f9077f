/**
 * TEST CODE. The renderer's own output on a gateway host: `spillway render` (renderer/cli.ts run()) writes
 * apisix.yaml + config.yaml for three Azure OpenAI simulators, the host loads exactly those files (radixtree `:param`
 * routes, the x-priority `vars` lane, mocking /healthz, ai-rate-limiting, opentelemetry, active health checks,
 * prometheus), and the official openai SDK (v6) talks to it, as OpenAI and as AzureOpenAI. Every figure is checked
 * against what the simulators received. Host-agnostic: rendered-config{,.apisix,.apisix-2w}.test.ts run it on the
 * nginx stand-in and on real APISIX with 1 and 2 workers. Where the hosts show a behaviour differently (the stand-in
 * does not model ai-rate-limiting; real APISIX logs at warn as rendered), the case says which evidence each host
 * gives; what the stand-in does not model at all (opentelemetry, active health checks, the status API) is skipped
 * there with that reason.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { parse } from "yaml";
import { run } from "../../../renderer/cli.ts";
import { startSimulator, stopSimulators, type RecordedRequest, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { repoRoot } from "../../helpers/lua.ts";
import { expectNoErrorLines, reportLogsOnFailure, type Gateway } from "../../rig/gateway.ts";
import { loopbackListenEnv } from "../../../scripts/start/ports.ts";
import { caseOn, describeOnHost, fromEveryWorker, NEW_CONNECTION, type HostChoice, type IntegrationHost } from "./hosts.ts";

const SIM_KEY = "sim-key-rendered-0123456789";
const CLIENT_KEY = "team-a-client-key-0123456789abcdef";
const CHAT = "gpt-4o-mini";
/** Their own deployments, so the 429 cooldowns of the failover cases touch nothing else (cooldowns are per deployment). */
const FAILOVER_CHAT = "gpt-4o-failover";
const AZURE_FAILOVER_CHAT = "gpt-4o-failover-azure";
const TRACED_CHAT = "gpt-4o-traced";
const EMBEDDING = "text-embedding-3-small";
const API_VERSION = "2024-10-21";
const E2E_PREFIX = "retry-with-payg";
const HIGH_LIMIT = 1_000_000;
const LOW_LIMIT = 500_000;
/** The renderer's default active health-check path (APISIX_ACTIVE_HEALTH_CHECKS_PATH). */
const HEALTH_CHECK_PATH = "/openai/v1/models";
/** opentelemetry's batch span processor exports a batch 5 s after its first span, checking every 2 s. */
const OTEL_EXPORT_WAIT_MS = 15_000;
/** The first active probe comes one healthy interval (10 s as rendered) after a route's first request made the checker. */
const HEALTH_PROBE_WAIT_MS = 20_000;
const BACKENDS = [
  { name: "sim-primary", priority: 10 },
  { name: "sim-spill-1", priority: 5 },
  { name: "sim-spill-2", priority: 5 },
] as const;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 response as received on a socket (the body up to the close; none of ours are chunked). */
function parseRaw(raw: string): RawAnswer {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body: raw.slice(end + 4) };
}

/** Sends raw bytes (a request the client libraries would not send) and reads the answer until the gateway closes. */
function rawExchange(url: string, bytes: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(bytes));
    const parts: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
    socket.on("data", (d: Buffer) => parts.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(parseRaw(Buffer.concat(parts).toString("utf8"))));
  });
}

/**
 * A request whose Content-Length announces `declared` bytes but that sends only `sent`, as a client whose body is too
 * large would begin: the gateway must answer from the header alone (and the client then goes away).
 */
function announceOversizedBody(url: string, headers: Record<string, string>, declared: number, sent: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "content-length": String(declared) }, agent: false, timeout: 10_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(parts).toString("utf8") });
        req.destroy();
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", (err) => (err.message.includes("socket hang up") || (err as NodeJS.ErrnoException).code === "EPIPE" ? undefined : reject(err)));
    req.write(sent);
  });
}

/** The OpenAI error shape every client-visible error has, as application/json. */
function expectOpenAiError(answer: { status: number; contentType: string | null | undefined; body: string }, status: number): void {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  const parsed = JSON.parse(answer.body) as { error: { message: unknown; type: unknown; code: unknown } };
  expect(parsed.error).toMatchObject({ message: expect.any(String), type: expect.any(String), code: String(status) });
}

/**
 * An OTLP/HTTP collector that keeps what it is sent (real APISIX exports spans; the stand-in does not). The export is
 * protobuf: span names and attribute values appear in it as plain bytes, trace ids as their 16 raw bytes.
 */
async function startCollector(): Promise<{ port: number; exports: () => number; received: () => Buffer; stop: () => Promise<void> }> {
  let exports = 0;
  const bodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        exports++;
        bodies.push(Buffer.concat(chunks));
      }
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr ? addr.port : 0,
    exports: () => exports,
    received: () => Buffer.concat(bodies),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An active health-check probe of real APISIX (the stand-in does not model them): ai-proxy-multi adds the instance's
 * auth header to it, but it carries neither a user-agent nor the x-forwarded-* headers of a forwarded request.
 */
function isHealthProbe(r: RecordedRequest): boolean {
  return r.method === "GET" && r.path === HEALTH_CHECK_PATH && r.headers["user-agent"] === undefined && r.headers["x-forwarded-host"] === undefined;
}

/**
 * Which lane served a chat request. The stand-in logs every matched route at info; real APISIX runs at the rendered
 * `warn`, but there each lane's ai-rate-limiting announces its own quota (`header_prefix` consumer / consumer-low).
 */
function laneOf(host: IntegrationHost, response: Response, log: string): "low" | "normal" | "unknown" {
  if (host.name === "nginx") {
    if (/matched route: \{[^}]*"id":"spillway-chat-low"/.test(log)) return "low";
    if (/matched route: \{[^}]*"id":"spillway-chat"/.test(log)) return "normal";
    return "unknown";
  }
  const low = response.headers.get("x-ai-consumer-low-ratelimit-limit");
  const normal = response.headers.get("x-ai-consumer-ratelimit-limit");
  if (low === String(LOW_LIMIT) && normal === null) return "low";
  if (normal === String(HIGH_LIMIT) && low === null) return "normal";
  return "unknown";
}

export function renderedConfigSuite(choice: HostChoice): void {
  describeOnHost(choice, "rendered apisix.yaml + config.yaml (spillway render, three simulators)", (host) => {
    let dir: string | undefined;
    let sims: SimulatorHandle[] = [];
    let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
    let gw: Gateway | undefined;
    let statusPort = 0;

    const primary = (): SimulatorHandle => sims[0]!;
    const openai = (): OpenAI =>
      new OpenAI({ baseURL: `${gw!.url}/openai/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000, defaultHeaders: NEW_CONNECTION });
    const azure = (deployment: string): AzureOpenAI =>
      new AzureOpenAI({ endpoint: gw!.url, apiKey: CLIENT_KEY, apiVersion: API_VERSION, deployment, maxRetries: 0, timeout: 10_000, defaultHeaders: NEW_CONNECTION });
    /** What a simulator received from the gateway (no health probes), cumulative. */
    const received = (sim: SimulatorHandle): RecordedRequest[] => sim.requests().filter((r) => !isHealthProbe(r));
    const since = (sim: SimulatorHandle, before: number) => received(sim).slice(before);
    const counts = (): number[] => sims.map((s) => received(s).length);
    const newLog = async <T>(fn: () => Promise<T>): Promise<{ result: T; log: string }> => {
      const start = gw!.errorLog().length;
      const result = await fn();
      return { result, log: gw!.errorLog().slice(start) };
    };
    const post = (urlPath: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gw!.url}${urlPath}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...NEW_CONNECTION, ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });

    beforeAll(async () => {
      sims = await Promise.all(
        BACKENDS.map((b) =>
          startSimulator({
            name: b.name,
            apiKey: SIM_KEY,
            deployments: { [CHAT]: { model: CHAT }, [FAILOVER_CHAT]: { model: CHAT }, [AZURE_FAILOVER_CHAT]: { model: CHAT }, [TRACED_CHAT]: { model: CHAT }, [EMBEDDING]: { model: EMBEDDING } },
            latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 2 },
          }),
        ),
      );
      collector = await startCollector();

      dir = mkdtempSync(path.join(tmpdir(), "spillway-rendered-"));
      const listen = await loopbackListenEnv();
      statusPort = Number(listen.SPILLWAY_STATUS_PORT);
      const env: Record<string, string> = {
        GATEWAY_CLIENT_NAME_0: "team-a",
        GATEWAY_CLIENT_KEY_0: CLIENT_KEY,
        GATEWAY_LOG_MODE: "test",
        // Rendered as the production files would be; each rig picks its own loopback port (docs/testing.md).
        ...listen,
        SPILLWAY_LUA_PATH: path.join(repoRoot, "build/lua"),
        SPILLWAY_COOLDOWN_429_MS: "2000",
        // The x-priority low lane: a second set of routes with `vars` and their own token quota.
        ENABLE_AI_RATE_LIMIT: "true",
        AI_RATE_LIMIT_HIGH_LIMIT: String(HIGH_LIMIT),
        AI_RATE_LIMIT_LOW_LIMIT: String(LOW_LIMIT),
        OTEL_COLLECTOR_ENDPOINT: `127.0.0.1:${collector.port}`,
        // Every request traced, so that one request's spans can be looked for.
        OTEL_SAMPLE_RATE: "1",
        APISIX_ACTIVE_HEALTH_CHECKS: "true",
        GATEWAY_E2E_TEST_MODE: "true",
        GATEWAY_E2E_ROUTE_PREFIXES: E2E_PREFIX,
      };
      BACKENDS.forEach((b, i) => {
        env[`AZURE_OPENAI_ENDPOINT_${i}`] = sims[i]!.url;
        env[`AZURE_OPENAI_KEY_${i}`] = SIM_KEY;
        env[`AZURE_OPENAI_NAME_${i}`] = b.name;
        env[`AZURE_OPENAI_PRIORITY_${i}`] = String(b.priority);
      });
      // Exactly what `spillway render --out <dir>` writes; only these env values are read.
      await run({ processEnv: env, out: dir, log: () => {} });
      gw = await host.start({ apisixYaml: path.join(dir, "apisix.yaml"), configYaml: path.join(dir, "config.yaml") });
    });

    afterAll(async () => {
      await gw?.stop();
      await stopSimulators(sims);
      await collector?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it("loads the rendered files unchanged: every route and consumer, the router and plugins from config.yaml", async () => {
      const config = readFileSync(path.join(dir!, "config.yaml"), "utf8");
      expect(config).toContain("http: radixtree_uri_with_parameter");
      const apisix = parse(readFileSync(path.join(dir!, "apisix.yaml"), "utf8"), { version: "1.1" }) as { routes: { uris: string[] }[]; consumers: unknown[] };
      expect(apisix.routes.some((r) => r.uris.includes("/openai/deployments/:deployment/chat/completions"))).toBe(true);
      const log = gw!.errorLog();
      expect(log).not.toMatch(/failed to check item data/);
      if (host.name === "nginx") {
        // The stand-in counts what it loaded, and warns for the plugins it does not model (docs/testing.md).
        const status = (await (await fetch(`${(gw as Gateway & { controlUrl: string }).controlUrl}/status`)).json()) as { routes: number; consumers: number };
        expect(status).toMatchObject({ routes: apisix.routes.length, consumers: apisix.consumers.length });
        expect(log).toMatch(/routes \[spillway-chat\]: skipping plugin \[ai-rate-limiting\]: not modelled by the stand-in/);
        expect(log).toMatch(/routes \[spillway-models\]: skipping plugin \[opentelemetry\]: not modelled by the stand-in/);
        expect(log).toMatch(/plugin_metadata \[opentelemetry\]: skipping it/);
      }
      // Real APISIX has no control API here; an item it refused would be an error line ("failed to check item data").
      expectNoErrorLines(gw!);
    });

    it("answers /healthz itself (mocking), without a key and without calling a backend", async () => {
      const before = counts();
      const res = await fetch(`${gw!.url}/healthz`, { headers: NEW_CONNECTION });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("x-mock-by")).toBeNull();
      expect(await res.json()).toEqual({ status: "ok" });
      const head = await fetch(`${gw!.url}/healthz`, { method: "HEAD", headers: NEW_CONNECTION });
      expect(head.status).toBe(200);
      expect(counts()).toEqual(before);
    });

    caseOn(host, { nginx: "the stand-in does not model APISIX's status API (docs/testing.md, Not modelled)" })(
      "answers readiness on the status API address that config.yaml names",
      async () => {
        const res = await fetch(`http://127.0.0.1:${statusPort}/status/ready`, { headers: NEW_CONNECTION });
        expect(res.status, await res.clone().text()).toBe(200);
      },
    );

    it("refuses a request without a client key with an OpenAI-shaped 401, before any backend", async () => {
      const before = counts();
      const res = await post("/openai/v1/chat/completions", { model: CHAT, messages: [{ role: "user", content: "hi" }] });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: unknown } }).error).toBeDefined();
      const err = await openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }] }, { headers: { authorization: null } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(counts()).toEqual(before);
    });

    it("serves chat on /openai/v1 through the OpenAI SDK from the highest-priority backend, with the backend's key", async () => {
      const before = received(primary()).length;
      const { data, response } = await openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hello" }], max_tokens: 5 }).withResponse();
      expect(data.object).toBe("chat.completion");
      expect(data.choices[0]!.message.content).toBeTruthy();
      expect(response.headers.get("x-gw-backend")).toBe("sim-primary");
      const got = since(primary(), before);
      expect(got).toHaveLength(1);
      expect(got[0]!.path).toBe("/openai/v1/chat/completions");
      expect(got[0]!.headers["api-key"]).toBe("[valid]");
      expect(JSON.stringify(got[0]!.headers)).not.toContain(CLIENT_KEY);
    });

    it("serves chat on /openai/deployments/:deployment/chat/completions?api-version through the AzureOpenAI SDK", async () => {
      const before = received(primary()).length;
      const { data, response } = await azure(CHAT).chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hello" }], max_tokens: 5 }).withResponse();
      expect(data.object).toBe("chat.completion");
      expect(response.headers.get("x-gw-backend")).toBe("sim-primary");
      const got = since(primary(), before);
      expect(got.map((r) => r.path)).toEqual([`/openai/deployments/${CHAT}/chat/completions`]);
      expect(got[0]!.query).toMatchObject({ "api-version": API_VERSION });
    });

    it("streams chat through the SDK, chunk by chunk, to the end", async () => {
      const stream = await openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "count" }], max_tokens: 6, stream: true });
      let text = "";
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta.content ?? "";
      }
      expect(chunks).toBeGreaterThanOrEqual(3);
      expect(text.length).toBeGreaterThan(0);
    });

    it("serves embeddings on both path families (OpenAI and AzureOpenAI SDKs)", async () => {
      const v1 = await openai().embeddings.create({ model: EMBEDDING, input: "hello world" });
      expect(v1.data).toHaveLength(1);
      expect(v1.data[0]!.embedding.length).toBeGreaterThan(0);
      const before = received(primary()).length;
      const legacy = await azure(EMBEDDING).embeddings.create({ model: EMBEDDING, input: ["a", "b"] });
      expect(legacy.data).toHaveLength(2);
      expect(since(primary(), before).map((r) => r.path)).toEqual([`/openai/deployments/${EMBEDDING}/embeddings`]);
    });

    it("routes x-priority: low (any case), or ?priority=low without the header, to the low lane's route, matched first by its vars; refuses any other value", async () => {
      const ask = (priority: string) =>
        newLog(() => openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { headers: { "x-priority": priority } }).withResponse());
      const low = await ask(" LOW ");
      expect(low.result.data.object).toBe("chat.completion");
      expect(laneOf(host, low.result.response, low.log)).toBe("low");
      expect(low.result.response.headers.get("x-gw-priority")).toBe("low");
      const normal = await ask("High");
      expect(normal.result.data.object).toBe("chat.completion");
      expect(laneOf(host, normal.result.response, normal.log)).toBe("normal");
      expect(normal.result.response.headers.get("x-gw-priority")).toBe("high");
      // Without the header, the query decides.
      const byQuery = await newLog(() => openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { query: { priority: "low" } }).withResponse());
      expect(laneOf(host, byQuery.result.response, byQuery.log)).toBe("low");
      // Any other value is refused, before any backend: a typo must not move a batch job into the interactive lane.
      const before = counts();
      const typo = await fetch(`${gw!.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}`, "x-priority": "lowish", ...NEW_CONNECTION },
        body: JSON.stringify({ model: CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
      });
      expect(typo.status).toBe(400);
      expect(((await typo.json()) as { error: { param: string } }).error.param).toBe("x-priority");
      expect(counts()).toEqual(before);
    });

    it("fails over within the request when the preferred backend answers 429, the client never sees it, and the cooldown then holds for every worker", async () => {
      primary().setFaults([{ kind: "status", status: 429, retryAfterMs: 30_000, deployment: FAILOVER_CHAT }]);
      try {
        const ask = () => openai().chat.completions.create({ model: FAILOVER_CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }).withResponse();
        const before = counts();
        const { data, response } = await ask();
        expect(data.object).toBe("chat.completion");
        expect(response.headers.get("x-gw-attempts")).toBe("2");
        expect(["sim-spill-1", "sim-spill-2"]).toContain(response.headers.get("x-gw-backend"));
        const after = counts();
        expect(after[0]! - before[0]!).toBe(1);
        expect(after[1]! - before[1]! + (after[2]! - before[2]!)).toBe(1);
        // Within the cooldown no worker asks the primary again (each request comes on a new connection).
        const workers = await fromEveryWorker(gw!, host.workers, ask, (next) => {
          expect(next.response.headers.get("x-gw-attempts")).toBe("1");
          expect(["sim-spill-1", "sim-spill-2"]).toContain(next.response.headers.get("x-gw-backend"));
        });
        expect(workers, "workers that served a request during the cooldown").toBe(host.workers);
        expect(counts()[0]! - before[0]!).toBe(1);
      } finally {
        primary().clearFaults();
      }
    });

    it("fails over on the Azure deployments path too, keeping ?api-version for the next backend", async () => {
      primary().setFaults([{ kind: "status", status: 429, retryAfterMs: 30_000, deployment: AZURE_FAILOVER_CHAT }]);
      try {
        const before = counts();
        const { data, response } = await azure(AZURE_FAILOVER_CHAT).chat.completions.create({ model: AZURE_FAILOVER_CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }).withResponse();
        expect(data.object).toBe("chat.completion");
        expect(response.headers.get("x-gw-attempts")).toBe("2");
        const backend = response.headers.get("x-gw-backend");
        expect(["sim-spill-1", "sim-spill-2"]).toContain(backend);
        const tried = [...since(primary(), before[0]!), ...since(sims.find((s) => s.name === backend)!, before[sims.findIndex((s) => s.name === backend)]!)];
        expect(tried.map((r) => r.path)).toEqual([0, 1].map(() => `/openai/deployments/${AZURE_FAILOVER_CHAT}/chat/completions`));
        for (const r of tried) expect(r.query).toMatchObject({ "api-version": API_VERSION });
      } finally {
        primary().clearFaults();
      }
    });

    it("lists models through the body-less route (GET /openai/v1/models) and retrieves a response by :response_id", async () => {
      const { data: page, response } = await openai().models.list().withResponse();
      expect(response.headers.get("x-gw-backend")).toBe("sim-primary");
      expect(page.data.length).toBeGreaterThan(0);
      const created = await openai().responses.create({ model: CHAT, input: "hi", max_output_tokens: 4 });
      const fetched = await openai().responses.retrieve(created.id);
      expect(fetched.id).toBe(created.id);
    });

    it("answers an OpenAI-shaped JSON 404 where no route matches (an empty :param segment, a trailing segment, a wrong method, a typo), key or not", async () => {
      const before = counts();
      const answers = [
        await fetch(`${gw!.url}/openai/v1/models/`, { headers: { "api-key": CLIENT_KEY, ...NEW_CONNECTION } }),
        await post(`/openai/deployments/${CHAT}/chat/completions/extra?api-version=${API_VERSION}`, {}, { "api-key": CLIENT_KEY }),
        await fetch(`${gw!.url}/openai/v1/chat/completions`, { headers: { "api-key": CLIENT_KEY, ...NEW_CONNECTION } }),
        await post("/openai/v1/chat/completion", { model: CHAT, messages: [{ role: "user", content: "hi" }] }, { "api-key": CLIENT_KEY }),
        // No key, and a wrong one: the same 404 (the catch-all does not check keys, so it says nothing about one).
        await post("/openai/v1/chat/completion", { model: CHAT, messages: [{ role: "user", content: "hi" }] }),
        await post("/openai/v1/chat/completion", { model: CHAT, messages: [{ role: "user", content: "hi" }] }, { "api-key": "not-a-client-key-0000000000" }),
        await fetch(`${gw!.url}/`, { headers: NEW_CONNECTION }),
        // Real APISIX: nginx's internal error-page location (config.yaml) is not for clients; its 404 is JSON too.
        await fetch(`${gw!.url}/spillway-error/500`, { headers: NEW_CONNECTION }),
      ];
      for (const res of answers) {
        expectOpenAiError({ status: res.status, contentType: res.headers.get("content-type"), body: await res.text() }, 404);
        expect(res.headers.get("x-mock-by")).toBeNull();
      }
      const err = await openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }] }, { path: "/chat/completion" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ type: "invalid_request_error", code: "404" });
      expect(counts()).toEqual(before);
    });

    it("refuses malformed JSON, a wrong Content-Type and a body over the limit (by its Content-Length) with OpenAI JSON errors, before any backend", async () => {
      const before = counts();
      const log = await newLog(async () => {
        const malformed = await fetch(`${gw!.url}/openai/v1/chat/completions`, {
          method: "POST", headers: { "api-key": CLIENT_KEY, "content-type": "application/json", ...NEW_CONNECTION }, body: '{"model": "gpt-4o-mini", "messages": [',
        });
        expectOpenAiError({ status: malformed.status, contentType: malformed.headers.get("content-type"), body: await malformed.text() }, 400);
        const plain = await post("/openai/v1/chat/completions", { model: CHAT, messages: [{ role: "user", content: "hi" }] }, { "api-key": CLIENT_KEY, "content-type": "text/plain" });
        expectOpenAiError({ status: plain.status, contentType: plain.headers.get("content-type"), body: await plain.text() }, 415);
        // ai-proxy-multi's max_req_body_size, which the rendered route leaves at 3.18's default (64 MiB); 64 KiB sent.
        const over = await announceOversizedBody(`${gw!.url}/openai/v1/chat/completions`, { "api-key": CLIENT_KEY, "content-type": "application/json" }, 64 * 1024 * 1024 + 1, `{"model":"${CHAT}","messages":[{"role":"user","content":"${"x".repeat(64 * 1024)}`);
        expectOpenAiError({ status: over.status, contentType: over.headers["content-type"], body: over.body }, 413);
        const sdk = await openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }] }, { body: "[" as never }).catch((e: unknown) => e);
        expect(sdk).toBeInstanceOf(OpenAI.BadRequestError);
      });
      // 3.18 itself logged "[error] ... failed to read request body" for each oversized body.
      expect(log.log).not.toMatch(/\[error\]/);
      expect(counts()).toEqual(before);
    });

    caseOn(host, { nginx: "the stand-in's nginx.conf is the rig's own: it does not load config.yaml's nginx_config snippets (docs/testing.md)" })(
      "answers what nginx refuses before any Lua runs (a 16 KiB header, a malformed request, an 8 KiB+ URI) with OpenAI JSON, not nginx's HTML pages",
      async () => {
        const before = counts();
        const big = await fetch(`${gw!.url}/openai/v1/chat/completions`, {
          method: "POST",
          headers: { "api-key": CLIENT_KEY, "content-type": "application/json", "x-padding": "p".repeat(16 * 1024), ...NEW_CONNECTION },
          body: JSON.stringify({ model: CHAT, messages: [{ role: "user", content: "hi" }] }),
        });
        expectOpenAiError({ status: big.status, contentType: big.headers.get("content-type"), body: await big.text() }, 431);
        const malformed = await rawExchange(gw!.url, "GET /openai/v1/models HTTP/1.1\r\nConnection: close\r\n\r\n"); // HTTP/1.1 without Host
        expectOpenAiError({ status: malformed.status, contentType: malformed.headers["content-type"], body: malformed.body }, 400);
        const longUri = await rawExchange(gw!.url, `GET /openai/v1/models?x=${"u".repeat(10 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        expectOpenAiError({ status: longUri.status, contentType: longUri.headers["content-type"], body: longUri.body }, 414);
        expect(counts()).toEqual(before);
      },
    );

    it("serves Responses through the AzureOpenAI SDK: create on /openai/responses?api-version, retrieve by id", async () => {
      const created = await azure(CHAT).responses.create({ model: CHAT, input: "hi", max_output_tokens: 4 });
      expect(created.status).toBe("completed");
      const fetched = await azure(CHAT).responses.retrieve(created.id);
      expect(fetched.id).toBe(created.id);
    });

    // The provider honours $upstream_uri when proxy-rewrite set it (plugins/spillway-failover/client-path.ts). Only
    // the E2E route matches the prefixed path, so the backend seeing the bare path proves both.
    it("E2E prefix routes: proxy-rewrite strips the prefix before the backend sees the path", async () => {
      const before = received(primary()).length;
      const res = await post(`/${E2E_PREFIX}/openai/deployments/${CHAT}/chat/completions?api-version=${API_VERSION}`, { messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { "api-key": CLIENT_KEY });
      expect(res.status, await res.clone().text()).toBe(200);
      const got = since(primary(), before);
      expect(got.map((r) => r.path)).toEqual([`/openai/deployments/${CHAT}/chat/completions`]);
      expect(got[0]!.query).toMatchObject({ "api-version": API_VERSION });
    });

    caseOn(host, { nginx: "the stand-in does not model opentelemetry (docs/testing.md, Not modelled)" })(
      "exports sampled request spans to the OTLP collector that plugin_metadata names",
      async () => {
        const deadline = Date.now() + OTEL_EXPORT_WAIT_MS;
        while (collector!.exports() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(collector!.exports()).toBeGreaterThan(0);
      },
      OTEL_EXPORT_WAIT_MS + 5_000,
    );

    caseOn(host, { nginx: "the stand-in does not model opentelemetry (docs/testing.md, Not modelled)" })(
      "passes the request's trace context to the backends, and exports each attempt as a span of that trace",
      async () => {
        primary().setFaults([{ kind: "status", status: 429, retryAfterMs: 30_000, deployment: TRACED_CHAT }]);
        try {
          const before = counts();
          const { response } = await openai().chat.completions.create({ model: TRACED_CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }).withResponse();
          expect(response.headers.get("x-gw-attempts")).toBe("2");
          const calls = sims.flatMap((sim, i) => since(sim, before[i]!));
          expect(calls).toHaveLength(2);
          const parents = calls.map((c) => c.headers["traceparent"]);
          for (const p of parents) expect(p).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
          const traceId = parents[0]!.split("-")[1]!;
          expect(parents[1]!.split("-")[1], "both attempts carry the request's trace").toBe(traceId);
          const has = (bytes: Buffer) => collector!.received().indexOf(bytes) >= 0;
          const deadline = Date.now() + OTEL_EXPORT_WAIT_MS;
          while (!has(Buffer.from(traceId, "hex")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
          expect(has(Buffer.from(traceId, "hex")), "the request's trace was exported").toBe(true);
          const deadline2 = Date.now() + OTEL_EXPORT_WAIT_MS;
          while (!has(Buffer.from(`spillway.attempt ${response.headers.get("x-gw-backend")}`)) && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 100));
          for (const name of ["spillway.attempt sim-primary", `spillway.attempt ${response.headers.get("x-gw-backend")}`, "spillway.outcome", "throttled"]) {
            expect(has(Buffer.from(name)), `the export holds "${name}"`).toBe(true);
          }
        } finally {
          primary().clearFaults();
        }
      },
      OTEL_EXPORT_WAIT_MS * 2 + 5_000,
    );

    caseOn(host, { nginx: "the stand-in does not model active health checks (docs/testing.md, Not modelled)" })(
      "probes every backend's health path actively, with the backend's key",
      async () => {
        const probes = () => sims.map((sim) => sim.requests().filter(isHealthProbe));
        const deadline = Date.now() + HEALTH_PROBE_WAIT_MS;
        while (probes().some((p) => p.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        for (const [i, p] of probes().entries()) {
          expect(p.length, `active probes of ${BACKENDS[i]!.name}`).toBeGreaterThan(0);
          expect(p[0]!.headers["api-key"]).toBe("[valid]");
        }
      },
      HEALTH_PROBE_WAIT_MS + 5_000,
    );

    it("left no [error] lines in error.log", () => {
      expectNoErrorLines(gw!);
    });
  });
}
