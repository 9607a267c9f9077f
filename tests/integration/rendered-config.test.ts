// TEST CODE. The renderer's own output on the nginx stand-in: `spillway render` (renderer/cli.ts run()) writes
// apisix.yaml + config.yaml for three Azure OpenAI simulators, the stand-in loads exactly those files (radixtree
// `:param` routes, the x-priority `vars` lane, mocking /healthz, prometheus), and the official openai SDK (v6) talks
// to it, as OpenAI and as AzureOpenAI. Every figure is checked against what the simulators received.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { run } from "../../renderer/cli.ts";
import { repoRoot } from "../helpers/lua.ts";
import { expectNoErrorLines, reportLogsOnFailure } from "../rig/gateway.ts";
import { freePort, startGateway, type StandinGateway } from "../rig/nginx.ts";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";

const hasNginx = spawnSync("sh", ["-c", "command -v nginx"]).status === 0;
const built = ["apisix/plugins/spillway-failover.lua", "apisix/plugins/azure-openai-auth.lua", "spillway/hook.lua"].every((f) =>
  existsSync(path.join(repoRoot, "build/lua", f)),
);
const skipReason = !hasNginx ? " — skipped: nginx is not installed (scripts/setup.sh installs it)" : !built ? " — skipped: build/lua is missing our plugins (run npm run build)" : "";

const SIM_KEY = "sim-key-rendered-0123456789";
const CLIENT_KEY = "team-a-client-key-0123456789abcdef";
const CHAT = "gpt-4o-mini";
/** Its own deployment, so the 429 cooldown of the failover case touches nothing else (cooldowns are per deployment). */
const FAILOVER_CHAT = "gpt-4o-failover";
const EMBEDDING = "text-embedding-3-small";
const API_VERSION = "2024-10-21";
const E2E_PREFIX = "retry-with-payg";
const BACKENDS = [
  { name: "sim-primary", priority: 10 },
  { name: "sim-spill-1", priority: 5 },
  { name: "sim-spill-2", priority: 5 },
] as const;

describe.skipIf(skipReason !== "")(`rendered apisix.yaml + config.yaml on the nginx stand-in${skipReason}`, () => {
  let dir: string;
  let sims: SimulatorHandle[] = [];
  let gw: StandinGateway | undefined;
  let renderLog: string[] = [];

  const primary = (): SimulatorHandle => sims[0]!;
  const openai = (): OpenAI => new OpenAI({ baseURL: `${gw!.url}/openai/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });
  const azure = (deployment: string): AzureOpenAI =>
    new AzureOpenAI({ endpoint: gw!.url, apiKey: CLIENT_KEY, apiVersion: API_VERSION, deployment, maxRetries: 0, timeout: 10_000 });
  /** Requests a simulator received since `before` (its request log is cumulative). */
  const since = (sim: SimulatorHandle, before: number) => sim.requests().slice(before);
  const counts = (): number[] => sims.map((s) => s.requests().length);
  const newLog = async <T>(fn: () => Promise<T>): Promise<{ result: T; log: string }> => {
    const start = gw!.errorLog().length;
    const result = await fn();
    return { result, log: gw!.errorLog().slice(start) };
  };

  beforeAll(async () => {
    sims = await Promise.all(
      BACKENDS.map((b) =>
        startSimulator({
          name: b.name,
          apiKey: SIM_KEY,
          deployments: {
            [CHAT]: { model: CHAT },
            [FAILOVER_CHAT]: { model: CHAT },
            [EMBEDDING]: { model: EMBEDDING },
          },
          latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 2 },
        }),
      ),
    );
    dir = mkdtempSync(path.join(tmpdir(), "spillway-rendered-"));
    const env: Record<string, string> = {
      GATEWAY_CLIENT_NAME_0: "team-a",
      GATEWAY_CLIENT_KEY_0: CLIENT_KEY,
      GATEWAY_LOG_MODE: "test",
      // Rendered as the production files would be; the stand-in picks its own loopback port (docs/testing.md).
      SPILLWAY_LISTEN_HOST: "127.0.0.1",
      SPILLWAY_LISTEN_PORT: String(await freePort()),
      SPILLWAY_METRICS_HOST: "127.0.0.1",
      SPILLWAY_METRICS_PORT: String(await freePort()),
      SPILLWAY_STATUS_HOST: "127.0.0.1",
      SPILLWAY_STATUS_PORT: String(await freePort()),
      SPILLWAY_LUA_PATH: path.join(repoRoot, "build/lua"),
      SPILLWAY_COOLDOWN_429_MS: "2000",
      // The x-priority low lane (a second set of routes with `vars`); ai-rate-limiting itself is not modelled.
      ENABLE_AI_RATE_LIMIT: "true",
      AI_RATE_LIMIT_HIGH_LIMIT: "1000000",
      AI_RATE_LIMIT_LOW_LIMIT: "500000",
      // Rendered and loaded, but not modelled by the stand-in (docs/testing.md): tracing, and active health checks.
      OTEL_COLLECTOR_ENDPOINT: "127.0.0.1:4318",
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
    renderLog = [];
    // Exactly what `spillway render --out <dir>` writes; only these env values are read.
    await run({ processEnv: env, out: dir, log: (l) => renderLog.push(l) });
    gw = await startGateway({ apisixYaml: path.join(dir, "apisix.yaml"), configYaml: path.join(dir, "config.yaml") });
  });

  afterAll(async () => {
    await gw?.stop();
    await Promise.all(sims.map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

  it("loads the rendered files unchanged: every route and consumer, the router and plugins from config.yaml, warns for what it does not model", async () => {
    const config = readFileSync(path.join(dir, "config.yaml"), "utf8");
    expect(config).toContain("http: radixtree_uri_with_parameter");
    const apisix = parse(readFileSync(path.join(dir, "apisix.yaml"), "utf8"), { version: "1.1" }) as { routes: { uris: string[] }[]; consumers: unknown[] };
    expect(apisix.routes.some((r) => r.uris.includes("/openai/deployments/:deployment/chat/completions"))).toBe(true);
    const status = (await (await fetch(`${gw!.controlUrl}/status`)).json()) as { routes: number; consumers: number };
    expect(status).toMatchObject({ routes: apisix.routes.length, consumers: apisix.consumers.length });
    const log = gw!.errorLog();
    expect(log).toMatch(/routes \[spillway-chat\]: skipping plugin \[ai-rate-limiting\]: not modelled by the stand-in/);
    expect(log).toMatch(/routes \[spillway-models\]: skipping plugin \[opentelemetry\]: not modelled by the stand-in/);
    expect(log).toMatch(/plugin_metadata \[opentelemetry\]: skipping it/);
    expect(log).not.toMatch(/failed to check item data/);
    expectNoErrorLines(gw!);
  });

  it("answers /healthz itself (mocking), without a key and without calling a backend", async () => {
    const before = counts();
    const res = await fetch(`${gw!.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-mock-by")).toBeNull();
    expect(await res.json()).toEqual({ status: "ok" });
    const head = await fetch(`${gw!.url}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(counts()).toEqual(before);
  });

  it("refuses a request without a client key with an OpenAI-shaped 401, before any backend", async () => {
    const before = counts();
    const res = await fetch(`${gw!.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: CHAT, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: unknown } }).error).toBeDefined();
    const err = await openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }] }, { headers: { authorization: null } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(counts()).toEqual(before);
  });

  it("serves chat on /openai/v1 through the OpenAI SDK from the highest-priority backend, with the backend's key", async () => {
    const before = primary().requests().length;
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
    const before = primary().requests().length;
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
    const before = primary().requests().length;
    const legacy = await azure(EMBEDDING).embeddings.create({ model: EMBEDDING, input: ["a", "b"] });
    expect(legacy.data).toHaveLength(2);
    expect(since(primary(), before).map((r) => r.path)).toEqual([`/openai/deployments/${EMBEDDING}/embeddings`]);
  });

  it("routes x-priority: low (any case) to the low lane's route, matched first by its vars", async () => {
    const low = await newLog(() => openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { headers: { "x-priority": " LOW " } }));
    expect(low.result.object).toBe("chat.completion");
    expect(low.log).toMatch(/matched route: \{[^}]*"id":"spillway-chat-low"/);
    const normal = await newLog(() => openai().chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }, { headers: { "x-priority": "lowish" } }));
    expect(normal.log).toMatch(/matched route: \{[^}]*"id":"spillway-chat"/);
  });

  it("fails over within the request when the preferred backend answers 429, and the client never sees it", async () => {
    primary().setFaults([{ kind: "status", status: 429, retryAfterMs: 1500, deployment: FAILOVER_CHAT }]);
    try {
      const before = counts();
      const { data, response } = await openai().chat.completions.create({ model: FAILOVER_CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }).withResponse();
      expect(data.object).toBe("chat.completion");
      expect(response.headers.get("x-gw-attempts")).toBe("2");
      expect(["sim-spill-1", "sim-spill-2"]).toContain(response.headers.get("x-gw-backend"));
      const after = counts();
      expect(after[0]! - before[0]!).toBe(1);
      expect(after[1]! - before[1]! + (after[2]! - before[2]!)).toBe(1);
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

  it("answers APISIX's 404 where no route matches (an empty :param segment, a trailing segment, a wrong method)", async () => {
    const before = counts();
    const emptyParam = await fetch(`${gw!.url}/openai/v1/models/`, { headers: { "api-key": CLIENT_KEY } });
    expect(emptyParam.status).toBe(404);
    expect(await emptyParam.json()).toEqual({ error_msg: "404 Route Not Found" });
    const trailing = await fetch(`${gw!.url}/openai/deployments/${CHAT}/chat/completions/extra?api-version=${API_VERSION}`, { method: "POST", headers: { "api-key": CLIENT_KEY } });
    expect(trailing.status).toBe(404);
    const wrongMethod = await fetch(`${gw!.url}/openai/v1/chat/completions`, { headers: { "api-key": CLIENT_KEY } });
    expect(wrongMethod.status).toBe(404);
    expect(counts()).toEqual(before);
  });

  // The provider honours $upstream_uri when proxy-rewrite set it (plugins/spillway-failover/client-path.ts).
  it("E2E prefix routes: proxy-rewrite strips the prefix before the backend sees the path", async () => {
    const before = primary().requests().length;
    const { result: res, log } = await newLog(() =>
      fetch(`${gw!.url}/${E2E_PREFIX}/openai/deployments/${CHAT}/chat/completions?api-version=${API_VERSION}`, {
        method: "POST",
        headers: { "api-key": CLIENT_KEY, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
      }),
    );
    expect(log).toMatch(/matched route: \{[^}]*"id":"e2e-retry-with-payg-chat-completions"/);
    expect(res.status).toBe(200);
    expect(since(primary(), before).map((r) => r.path)).toEqual([`/openai/deployments/${CHAT}/chat/completions`]);
  });

  it("left no [error] lines in error.log", () => {
    expectNoErrorLines(gw!);
  });
});
