/**
 * TEST CODE. Entra ID (managed identity) from the gateway to its backends (issue 12), on real APISIX 3.18.0: a local
 * fake identity endpoint (fake-identity.ts, both protocols) issues tokens, an Entra ID backend (a simulator that
 * accepts exactly the issued token as Bearer) sits in front of an api-key backend. Each case has its own route
 * (chosen by the x-case header), instance names (so cooldowns stay apart) and client id (so token caches stay
 * apart). Cases: one token call for many requests and for 200 at once, refresh ahead of expiry, tokens expiring
 * mid-run, the identity endpoint refusing, slow or down (fail over, short cooldown, one log line), the Bearer header
 * and no api-key at the backend, body-less calls, IMDS, the renderer's own files, the official openai SDK, and no
 * token in any log, error body or metric. entra.apisix{,-2w}.test.ts run it with 1 and 2 nginx workers; with 2,
 * "one token call" is per node, whichever worker each request lands on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { run } from "../../../renderer/cli.ts";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { loopbackListenEnv } from "../../../scripts/start/ports.ts";
import { repoRoot } from "../../helpers/lua.ts";
import { toApisixYaml } from "../../rig/apisix-yaml.ts";
import { reportLogsOnFailure, severeLines, type Gateway } from "../../rig/gateway.ts";
import { startFakeIdentity, startTokenCheckingFront, type FakeIdentity, type TokenCheckingFront } from "./fake-identity.ts";
import { describeOnHost, fromEveryWorker, NEW_CONNECTION, type HostChoice, type IntegrationHost } from "./hosts.ts";

/** The Entra ID simulator accepts exactly this Bearer token; the fake identity issues it (unless a case asks for unique ones). */
const TOKEN = "entra-token-0123456789.abcdef";
const SIM_KEY = "sim-key-0123456789";
const CLIENT_KEY = "client-key-0123456789abcdef";
const API_VERSION = "2024-10-21";
const CHAT = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 3 };
/** Token calls time out after this in every case (the default is 3000 ms). */
const TOKEN_TIMEOUT_MS = 500;
/** After a failed token call, none for this long; Entra ID backends are cooled as long. */
const BACKOFF_MS = 1500;
/** The refusal case checks every worker inside the cooldown (fromEveryWorker waits for access-log lines): longer. */
const REFUSED_BACKOFF_MS = 4000;
const NO_TOKEN = /no Entra ID token for managed identity/;

/** One client id per case (the fake endpoint's behaviour and the gateway's token cache are per client id). */
const guid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const CASES = {
  cached: guid(1),
  burst: guid(2),
  refresh: guid(3),
  expiry: guid(4),
  refused: guid(5),
  slow: guid(6),
  down: guid(7),
  only: guid(8),
  sdk: guid(9),
} as const;
type CaseName = keyof typeof CASES;

function entraConf(clientId: string | undefined): Record<string, unknown> {
  const backoff = clientId === CASES.refused ? REFUSED_BACKOFF_MS : BACKOFF_MS;
  // The burst waits on a slow token call under the load of 200 requests on 2 cores: the default timeout (3000 ms).
  const timeout = clientId === CASES.burst ? {} : { timeout_ms: TOKEN_TIMEOUT_MS };
  return { ...(clientId !== undefined ? { client_id: clientId } : {}), ...timeout, failure_backoff_ms: backoff };
}

function entraInstance(name: string, endpoint: string, clientId: string | undefined): Record<string, unknown> {
  return { name, provider: "azure-openai-dynamic", priority: 10, weight: 1, auth: {}, override: { endpoint }, provider_conf: { entra: entraConf(clientId) } };
}

function keyedInstance(name: string, endpoint: string): Record<string, unknown> {
  return { name, provider: "azure-openai-dynamic", priority: 0, weight: 1, auth: { header: { "api-key": SIM_KEY } }, override: { endpoint } };
}

const AI_URIS = ["/openai/v1/chat/completions", "/openai/v1/embeddings", "/openai/deployments/*"];

/** Routes per case: `x-case: <name>` picks them; every one carries client auth, as the rendered routes do. */
function apisixDoc(entraUrl: string, keyedUrl: string, frontUrl: string): Record<string, unknown> {
  const auth = { "azure-openai-auth": {} };
  const multi = (instances: Record<string, unknown>[]) => ({ fallback_strategy: ["http_429", "http_5xx"], streaming_flush_interval_ms: 0, instances });
  const routes: Record<string, unknown>[] = [];
  for (const name of Object.keys(CASES) as CaseName[]) {
    const entraEndpoint = name === "expiry" ? frontUrl : entraUrl;
    const instances = name === "only"
      ? [entraInstance(`entra-${name}`, entraEndpoint, CASES[name])]
      : [entraInstance(`entra-${name}`, entraEndpoint, CASES[name]), keyedInstance(`keyed-${name}`, keyedUrl)];
    routes.push({
      id: `ai-${name}`,
      methods: ["POST"],
      uris: AI_URIS,
      vars: [["http_x_case", "==", name]],
      plugins: { ...auth, "spillway-failover": {}, "ai-proxy-multi": multi(instances), prometheus: { prefer_name: true } },
    });
  }
  routes.push({
    id: "models",
    methods: ["GET"],
    uris: ["/openai/v1/models"],
    plugins: {
      ...auth,
      "spillway-failover": {
        backends: [
          { name: "entra-models", endpoint: entraUrl, priority: 10, auth: { header: {}, entra: entraConf(CASES.cached) } },
          { name: "keyed-models", endpoint: keyedUrl, priority: 0, auth: { header: { "api-key": SIM_KEY } } },
        ],
      },
    },
  });
  // The IMDS gateway's route: the system-assigned identity (no client_id).
  routes.push({
    id: "ai-system",
    methods: ["POST"],
    uris: AI_URIS,
    vars: [["http_x_case", "==", "system"]],
    plugins: { ...auth, "spillway-failover": {}, "ai-proxy-multi": multi([entraInstance("entra-system", entraUrl, undefined)]) },
  });
  routes.push({ id: "metrics", uri: "/apisix/prometheus/metrics", plugins: { "public-api": {} } });
  const consumers = [{ username: "app", plugins: { "azure-openai-auth": { key: CLIENT_KEY } } }];
  return { routes, consumers };
}

/** config.yaml: the hook, both shared dicts, and the `env` directives that let workers see the identity endpoint. */
const CONFIG = {
  apisix: { lua_module_hook: "spillway.hook" },
  nginx_config: {
    envs: ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "SPILLWAY_TEST_IMDS_ENDPOINT"],
    http: { custom_lua_shared_dict: { "spillway-cooldown": "1m", "spillway-identity": "1m" } },
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function entraSuite(choice: HostChoice): void {
  describeOnHost(choice, "Entra ID (managed identity) to backends", (host: IntegrationHost) => {
    let identity: FakeIdentity;
    let sims: SimulatorHandle[] = [];
    let front: TokenCheckingFront;
    let dir: string;
    let gw: Gateway | undefined;
    /** Every gateway started, for the secrecy case at the end. */
    const gateways: Gateway[] = [];
    const entraSim = () => sims[0]!;

    const chat = (name: string, target: Gateway = gw!, body: unknown = CHAT) =>
      fetch(`${target.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": CLIENT_KEY, "x-case": name, ...NEW_CONNECTION },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
    const backendOf = (res: Response) => res.headers.get("x-gw-backend");
    const logLines = (re: RegExp, target: Gateway = gw!) => target.errorLog().split("\n").filter((l) => re.test(l));

    const startGateway = async (env: Record<string, string>, files?: { apisixYaml: string; configYaml: string }): Promise<Gateway> => {
      const started = await host.start({
        apisixYaml: files?.apisixYaml ?? path.join(dir, "apisix.yaml"),
        configYaml: files?.configYaml ?? path.join(dir, "config.yaml"),
        env,
      });
      gateways.push(started);
      return started;
    };
    const stopGateway = async (g: Gateway): Promise<void> => {
      gateways.splice(gateways.indexOf(g), 1);
      await g.stop();
    };
    /** Neither a token this endpoint issued nor the IDENTITY_HEADER in a gateway's logs. */
    const expectNoSecretsInLogs = (g: Gateway): void => {
      const logs = `${g.errorLog()}\n${g.accessLog()}`;
      for (const secret of [...identity.issued(), identity.header]) expect(logs).not.toContain(secret);
    };

    beforeAll(async () => {
      identity = await startFakeIdentity();
      for (const name of Object.keys(CASES)) identity.behave(CASES[name as CaseName], { token: TOKEN });
      identity.behave("", { token: TOKEN });
      sims = await startSimulators([
        { name: "entra-sim", apiKey: TOKEN },
        { name: "keyed-sim", apiKey: SIM_KEY },
      ].map((s) => ({ ...s, deployments: { "gpt-4o": { model: "gpt-4o" } }, latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 2 }, requestLogSize: 5000 })));
      front = await startTokenCheckingFront(identity, entraSim().url, TOKEN);
      dir = mkdtempSync(path.join(tmpdir(), "spillway-entra-"));
      writeFileSync(path.join(dir, "apisix.yaml"), toApisixYaml(apisixDoc(entraSim().url, sims[1]!.url, front.url)));
      writeFileSync(path.join(dir, "config.yaml"), toApisixYaml(CONFIG, false));
      gw = await startGateway({ IDENTITY_ENDPOINT: identity.endpoint, IDENTITY_HEADER: identity.header });
    });

    afterAll(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
      await stopSimulators(sims);
      await front?.stop();
      await identity?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    beforeEach((ctx) => {
      for (const g of gateways) reportLogsOnFailure(ctx, () => g);
    });

    it("caches the token: 12 requests on every worker make one token call (Container Apps protocol)", async () => {
      const workers = await fromEveryWorker(gw!, host.workers, () => chat("cached"), (res) => {
        expect(res.status).toBe(200);
        expect(backendOf(res)).toBe("entra-cached");
      });
      expect(workers, "workers that answered").toBe(host.workers);
      for (let i = 0; i < 10; i++) expect((await chat("cached")).status).toBe(200);
      const calls = identity.calls(CASES.cached);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ protocol: "container-apps", issued: true });
    });

    it("sends Authorization: Bearer <token> to the backend, and no api-key (neither its own nor the client's)", async () => {
      const before = entraSim().requests().length;
      expect((await chat("cached")).status).toBe(200);
      const [seen] = entraSim().requests().slice(before);
      expect(seen!.headers.authorization).toBe("Bearer [valid]");
      expect(seen!.headers["api-key"]).toBeUndefined();
      expect(JSON.stringify(seen!.headers)).not.toContain(CLIENT_KEY);
    });

    it("200 concurrent requests make one token call per node", async () => {
      identity.behave(CASES.burst, { delayMs: 300 });
      const answers = await Promise.all(Array.from({ length: 200 }, () => chat("burst")));
      expect(answers.map((r) => r.status)).toEqual(Array(200).fill(200));
      expect(new Set(answers.map(backendOf))).toEqual(new Set(["entra-burst"]));
      expect(identity.calls(CASES.burst)).toHaveLength(1);
    }, 60_000);

    it("refreshes ahead of expiry: the second token call comes before the first token expires, while the current token keeps being sent", async () => {
      identity.behave(CASES.refresh, { lifetimeS: 4, expiry: "expires_in-number" });
      expect(backendOf(await chat("refresh"))).toBe("entra-refresh");
      const first = identity.calls(CASES.refresh)[0]!;
      // A 4 s token is refreshed after half its life (plugins/lib/entra-token.ts).
      await sleep(2300);
      for (let i = 0; i < 5; i++) expect(backendOf(await chat("refresh"))).toBe("entra-refresh");
      const calls = identity.calls(CASES.refresh);
      expect(calls).toHaveLength(2);
      expect(calls[1]!.time - first.time).toBeGreaterThanOrEqual(2000);
      expect(calls[1]!.time - first.time).toBeLessThan(4000);
    });

    it("tokens expiring mid-run: 7 s of traffic on 3 s tokens, each request carries a live token, and after an idle expiry a new one is fetched", async () => {
      identity.behave(CASES.expiry, { token: "unique", lifetimeS: 3, expiry: "expires_in-string" });
      const until = Date.now() + 7000;
      const statuses: number[] = [];
      await Promise.all([0, 1, 2].map(async () => {
        while (Date.now() < until) {
          const res = await chat("expiry");
          statuses.push(res.status);
          expect(backendOf(res)).toBe("entra-expiry");
          await sleep(50);
        }
      }));
      expect(statuses.every((s) => s === 200)).toBe(true);
      const calls = identity.calls(CASES.expiry).length;
      expect(calls).toBeGreaterThanOrEqual(3);
      expect(calls).toBeLessThanOrEqual(8);
      await sleep(3200); // the last token expires with nobody using it
      expect(backendOf(await chat("expiry"))).toBe("entra-expiry");
      expect(identity.calls(CASES.expiry).length).toBe(calls + 1);
      const seen = front.seen();
      expect(seen.length).toBe(statuses.length + 1);
      expect(seen.filter((s) => s.verdict !== "valid" || s.apiKey)).toEqual([]);
    }, 30_000);

    it("identity endpoint refusing: fails over to the api-key backend, cools the Entra ID one briefly, logs once, recovers", async () => {
      identity.behave(CASES.refused, { status: 400 });
      const first = await chat("refused");
      expect(first.status).toBe(200);
      expect(backendOf(first)).toBe("keyed-refused");
      expect(first.headers.get("x-gw-attempts")).toBe("1");
      const lines = logLines(NO_TOKEN).filter((l) => l.includes(CASES.refused));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/from the Container Apps identity endpoint .*it answered 400 \(invalid_request: Identity not found \(fake 400\)\); backends that use it fail over for the next 4000 ms/);
      // Cooling: every worker skips the Entra ID backend without a token call and without another log line.
      const workers = await fromEveryWorker(gw!, host.workers, () => chat("refused"), (res) => {
        expect(res.status).toBe(200);
        expect(backendOf(res)).toBe("keyed-refused");
        expect(res.headers.get("x-gw-attempts")).toBe("1");
      });
      expect(workers).toBe(host.workers);
      expect(identity.calls(CASES.refused)).toHaveLength(1);
      expect(logLines(NO_TOKEN).filter((l) => l.includes(CASES.refused))).toHaveLength(1);

      identity.behave(CASES.refused, { status: 200 });
      await sleep(REFUSED_BACKOFF_MS + 200);
      const again = await chat("refused");
      expect(backendOf(again)).toBe("entra-refused");
      expect(identity.calls(CASES.refused)).toHaveLength(2);
    });

    it("identity endpoint slow: the request fails over after the token call's timeout, not the endpoint's delay", async () => {
      identity.behave(CASES.slow, { delayMs: 3000 });
      const started = Date.now();
      const res = await chat("slow");
      expect(res.status).toBe(200);
      expect(backendOf(res)).toBe("keyed-slow");
      expect(Date.now() - started).toBeLessThan(2500);
      const lines = logLines(NO_TOKEN).filter((l) => l.includes(CASES.slow));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/failed to call it: .*timeout/);
    });

    it("identity endpoint down (connection dropped): fails over, one log line", async () => {
      identity.behave(CASES.down, { reset: true });
      const answers = await Promise.all(Array.from({ length: 20 }, () => chat("down")));
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map(backendOf))).toEqual(new Set(["keyed-down"]));
      expect(identity.calls(CASES.down)).toHaveLength(1);
      expect(logLines(NO_TOKEN).filter((l) => l.includes(CASES.down))).toHaveLength(1);
    });

    it("with no other backend: 503 in the OpenAI shape with Retry-After, and no token call per request", async () => {
      identity.behave(CASES.only, { status: 500 });
      const res = await chat("only");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toMatch(/^[12]$/);
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = (await res.json()) as { error: { message: string; type: string; code: string } };
      expect(body.error).toMatchObject({ type: "server_error", code: "503" });
      expect((await chat("only")).status).toBe(503);
      expect(identity.calls(CASES.only)).toHaveLength(1);
    });

    it("body-less calls (GET /openai/v1/models) carry the token too", async () => {
      const before = entraSim().requests().length;
      const res = await fetch(`${gw!.url}/openai/v1/models`, { headers: { "api-key": CLIENT_KEY, ...NEW_CONNECTION } });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gw-backend")).toBe("entra-models");
      const [seen] = entraSim().requests().slice(before);
      expect(seen).toMatchObject({ method: "GET", path: "/openai/v1/models" });
      expect(seen!.headers.authorization).toBe("Bearer [valid]");
      expect(seen!.headers["api-key"]).toBeUndefined();
    });

    it("the official openai SDK (OpenAI and AzureOpenAI clients, chat and stream) through an Entra ID backend", async () => {
      const headers = { ...NEW_CONNECTION, "x-case": "sdk" };
      const openai = new OpenAI({ baseURL: `${gw!.url}/openai/v1`, apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: headers });
      const azure = new AzureOpenAI({ endpoint: gw!.url, apiKey: CLIENT_KEY, apiVersion: API_VERSION, deployment: "gpt-4o", maxRetries: 0, defaultHeaders: headers });
      const before = entraSim().requests().length;
      const { data, response } = await openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 5 }).withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      expect(response.headers.get("x-gw-backend")).toBe("entra-sdk");
      const viaAzure = await azure.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 5 });
      expect(viaAzure.object).toBe("chat.completion");
      const stream = await azure.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 6, stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      expect(text.length).toBeGreaterThan(0);
      const seen = entraSim().requests().slice(before);
      expect(seen).toHaveLength(3);
      for (const r of seen) {
        expect(r.headers.authorization).toBe("Bearer [valid]");
        expect(r.headers["api-key"]).toBeUndefined();
      }
      expect(identity.calls(CASES.sdk)).toHaveLength(1);
    });

    it("IMDS when the platform sets no IDENTITY_ENDPOINT: Metadata: true, the system-assigned identity", async () => {
      const imds = await startGateway({ SPILLWAY_TEST_IMDS_ENDPOINT: identity.url });
      const res = await chat("system", imds);
      expect(res.status).toBe(200);
      expect(backendOf(res)).toBe("entra-system");
      expect(identity.calls("")).toEqual([expect.objectContaining({ protocol: "imds", clientId: "", issued: true })]);
      expect(severeLines(imds.errorLog())).toEqual([]);
      expectNoSecretsInLogs(imds);
      await stopGateway(imds);
    }, 60_000);

    it("the renderer's own files: a backend without a key is an Entra ID backend, and the token reaches it", async () => {
      const out = path.join(dir, "rendered");
      const clientId = guid(42);
      identity.behave(clientId, { token: TOKEN });
      const env: Record<string, string> = {
        ...(await loopbackListenEnv()),
        SPILLWAY_LUA_PATH: path.join(repoRoot, "build/lua"),
        GATEWAY_CLIENT_NAME_0: "app",
        GATEWAY_CLIENT_KEY_0: CLIENT_KEY,
        AZURE_OPENAI_ENDPOINT_0: entraSim().url,
        AZURE_OPENAI_NAME_0: "entra-rendered",
        AZURE_OPENAI_PRIORITY_0: "10",
        AZURE_OPENAI_MSI_CLIENT_ID: clientId,
        AZURE_OPENAI_ENDPOINT_1: sims[1]!.url,
        AZURE_OPENAI_KEY_1: SIM_KEY,
        AZURE_OPENAI_NAME_1: "keyed-rendered",
      };
      await run({ processEnv: env, out, log: () => {} });
      const config = readFileSync(path.join(out, "config.yaml"), "utf8");
      expect(config).toMatch(/envs:\n\s+- IDENTITY_ENDPOINT\n\s+- IDENTITY_HEADER/);
      expect(config).toContain("spillway-identity: 1m");
      const rendered = await startGateway(
        { IDENTITY_ENDPOINT: identity.endpoint, IDENTITY_HEADER: identity.header },
        { apisixYaml: path.join(out, "apisix.yaml"), configYaml: path.join(out, "config.yaml") },
      );
      const before = entraSim().requests().length;
      const res = await fetch(`${rendered.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": CLIENT_KEY, ...NEW_CONNECTION },
        body: JSON.stringify(CHAT),
      });
      expect(res.status).toBe(200);
      expect(backendOf(res)).toBe("entra-rendered");
      const models = await fetch(`${rendered.url}/openai/v1/models`, { headers: { "api-key": CLIENT_KEY, ...NEW_CONNECTION } });
      expect(models.status).toBe(200);
      const seen = entraSim().requests().slice(before);
      expect(seen.map((r) => r.headers.authorization)).toEqual(["Bearer [valid]", "Bearer [valid]"]);
      expect(identity.calls(clientId)).toEqual([expect.objectContaining({ protocol: "container-apps", issued: true })]);
      expect(severeLines(rendered.errorLog())).toEqual([]);
      expectNoSecretsInLogs(rendered);
      await stopGateway(rendered);
    }, 60_000);

    it("no token and no IDENTITY_HEADER in any log line, error body or metric; no unexpected error lines", async () => {
      const metrics = await (await fetch(`${gw!.url}/apisix/prometheus/metrics`, { headers: NEW_CONNECTION })).text();
      expect(metrics).toContain("apisix_http_status");
      expect(identity.issued().length).toBeGreaterThan(3);
      for (const secret of [...identity.issued(), identity.header]) expect(metrics).not.toContain(secret);
      // The rig logs at info: APISIX's own "sending request to LLM server" lines are there, with the header redacted.
      expect(gw!.errorLog()).toContain("sending request to LLM server");
      expectNoSecretsInLogs(gw!);
      expect(severeLines(gw!.errorLog(), [NO_TOKEN])).toEqual([]);
    });
  });
}
