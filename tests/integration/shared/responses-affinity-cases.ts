/**
 * TEST CODE. Issue 12: Responses API affinity that survives Redis trouble, through the official `openai` SDK (its
 * OpenAI client on /openai/v1, its AzureOpenAI client on the preview /openai/responses and on deployment-style
 * /openai/deployments/{d}/responses paths) against three simulators whose stores hold only what they created (any
 * other one answers 400 previous_response_not_found, as another Azure resource does). Two gateway replicas, each with
 * the host's worker count, share one real redis-server.
 *
 * Ground truth is the simulators' request logs: a follow-up (previous_response_id), GET, cancel or input_items of a
 * response must reach the backend that holds it, and nothing else, except where a case says how the gateway found it.
 * Host-agnostic: responses-affinity{,.apisix,.apisix-2w}.test.ts run it on the stand-in and on real APISIX.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startSimulators, stopSimulators, type RecordedRequest, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { toApisixYaml } from "../../rig/apisix-yaml.ts";
import { parseAccessLog, reportLogsOnFailure, severeLines, type Gateway } from "../../rig/gateway.ts";
import { describeOnHost, fromEveryWorker, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const SIM_KEY = "sim-key-0123456789";
const API_VERSION = "2025-04-01-preview";
const NAMES = ["east", "west", "north"] as const;
const PREFIX = "aff";
/** Per Redis step (connect, send, read): a slow Redis costs a follow-up at most a few of these, once per node. */
const REDIS_TIMEOUT_MS = 200;
/** plugins/spillway-failover/redis-sync.ts REPORT_INTERVAL_S. */
const REPORT_INTERVAL_MS = 30_000;
/** The warning; each failure is also logged at info level, which production runs (warn) do not write. */
const UNAVAILABLE = /\[warn\].*spillway-failover: redis unavailable \(/g;
const ANSWERS_AGAIN = /spillway-failover: redis answers again/;

type Sims = Record<(typeof NAMES)[number], SimulatorHandle>;
type Form = "v1" | "preview" | "deployments";
const FORMS: Form[] = ["v1", "preview", "deployments"];

/** Weights of the balanced route, drawn per run (reported in failure messages). */
const WEIGHTS = [4, 1, 1];

function instance(sim: SimulatorHandle, extra: Record<string, unknown>): Record<string, unknown> {
  return { name: sim.name, provider: "azure-openai-dynamic", auth: { header: { "api-key": SIM_KEY } }, override: { endpoint: sim.url }, ...extra };
}

interface Files {
  apisixYaml: string;
  configYaml: string;
  cleanup(): void;
}

/** The renderer's Responses routes (renderer/routes.ts), plus one with fixed priorities picked by a test header. */
function writeConfig(sims: Sims, redisPort: number): Files {
  const list = NAMES.map((n) => sims[n]);
  const failover = { default_429_cooldown_ms: 1000, redis: { host: "127.0.0.1", port: redisPort, timeout_ms: REDIS_TIMEOUT_MS, prefix: PREFIX } };
  const multi = (instances: Record<string, unknown>[]) => ({ fallback_strategy: ["http_429", "http_5xx"], streaming_flush_interval_ms: 0, instances });
  const create = ["/openai/v1/responses", "/openai/responses", "/openai/deployments/:deployment/responses"];
  // Body-less lookups without affinity ask east, then west, then north.
  const backends = list.map((s, i) => ({ name: s.name, endpoint: s.url, priority: 10 - i * 5, auth: { header: { "api-key": SIM_KEY } } }));
  const routes = [
    {
      id: "responses-ordered",
      priority: 10,
      methods: ["POST"],
      uris: create,
      vars: [["http_x_test_route", "==", "ordered"]],
      plugins: { "spillway-failover": failover, "ai-proxy-multi": multi(list.map((s, i) => instance(s, { priority: 10 - i * 5, weight: 1 }))) },
    },
    {
      id: "responses",
      methods: ["POST"],
      uris: create,
      plugins: { "spillway-failover": failover, "ai-proxy-multi": multi(list.map((s, i) => instance(s, { priority: 0, weight: WEIGHTS[i] }))) },
    },
    {
      id: "responses-manage",
      methods: ["GET", "DELETE"],
      uris: [
        "/openai/v1/responses/:response_id",
        "/openai/v1/responses/:response_id/input_items",
        "/openai/deployments/:deployment/responses/:response_id",
        "/openai/deployments/:deployment/responses/:response_id/input_items",
        "/openai/responses/:response_id",
        "/openai/responses/:response_id/input_items",
      ],
      plugins: { "spillway-failover": { ...failover, backends } },
    },
    {
      id: "responses-cancel",
      methods: ["POST"],
      uris: ["/openai/v1/responses/:response_id/cancel", "/openai/deployments/:deployment/responses/:response_id/cancel", "/openai/responses/:response_id/cancel"],
      plugins: { "spillway-failover": { ...failover, backends } },
    },
  ];
  const config = {
    apisix: { lua_module_hook: "spillway.hook", router: { http: "radixtree_uri_with_parameter" } },
    nginx_config: { http: { custom_lua_shared_dict: { "spillway-cooldown": "10m" } } },
  };
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-affinity-"));
  const apisixYaml = path.join(dir, "apisix.yaml");
  const configYaml = path.join(dir, "config.yaml");
  writeFileSync(apisixYaml, toApisixYaml({ routes }));
  writeFileSync(configYaml, toApisixYaml(config, false));
  return { apisixYaml, configYaml, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The SDK client of one path form, through one gateway; `deployment` only matters for the deployments form. */
function client(gw: Gateway, form: Form, deployment = "gpt-4o", headers: Record<string, string> = {}): OpenAI {
  const common = { apiKey: "client-key", maxRetries: 0, defaultHeaders: { ...NEW_CONNECTION, ...headers }, timeout: 10_000 };
  if (form === "v1") return new OpenAI({ baseURL: `${gw.url}/openai/v1`, ...common });
  if (form === "preview") return new AzureOpenAI({ endpoint: gw.url, apiVersion: API_VERSION, ...common });
  return new AzureOpenAI({ baseURL: `${gw.url}/openai/deployments/${deployment}`, apiVersion: API_VERSION, ...common });
}

interface Turn {
  id: string;
  backend: string | null;
  attempts: string | null;
  ms: number;
}

/** One create (a follow-up when `previous` is set), plain or streamed; the id of a stream comes from response.created. */
async function turn(c: OpenAI, previous: string | undefined, stream: boolean, model = "gpt-4o"): Promise<Turn> {
  const started = Date.now();
  const params = { model, input: previous === undefined ? "Tell me a story." : "And then?", max_output_tokens: 4, ...(previous ? { previous_response_id: previous } : {}) };
  if (!stream) {
    const { data, response } = await c.responses.create(params).withResponse();
    expect(data.status).toBe("completed");
    return { id: data.id, backend: response.headers.get("x-gw-backend"), attempts: response.headers.get("x-gw-attempts"), ms: Date.now() - started };
  }
  const { data: events, response } = await c.responses.create({ ...params, stream: true }).withResponse();
  let id: string | undefined;
  let completed = false;
  for await (const event of events) {
    if (event.type === "response.created") id = event.response.id;
    if (event.type === "response.completed") completed = true;
  }
  expect(completed, "the stream ended with response.completed").toBe(true);
  return { id: id!, backend: response.headers.get("x-gw-backend"), attempts: response.headers.get("x-gw-attempts"), ms: Date.now() - started };
}

function followUpsOf(sim: SimulatorHandle, previous: string): RecordedRequest[] {
  return sim.requests().filter((r) => r.method === "POST" && (r.body as { previous_response_id?: unknown })?.previous_response_id === previous);
}

function callsFor(sim: SimulatorHandle, id: string): RecordedRequest[] {
  return sim.requests().filter((r) => r.path.includes(`/responses/${id}`));
}

/** A stored response created on one simulator directly: a response no gateway has seen (or whose affinity expired). */
async function createdOn(sim: SimulatorHandle): Promise<string> {
  const res = await fetch(`${sim.url}/openai/v1/responses`, {
    method: "POST",
    headers: { "api-key": SIM_KEY, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o", input: "hi", max_output_tokens: 2 }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

/** Polls until `check` holds (at most `timeoutMs`), for effects that happen in the gateway's timers. */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function responsesAffinitySuite(choice: HostChoice): void {
  describeOnHost(choice, "Responses affinity that survives Redis trouble (openai SDK, 3 backends, 2 replicas, 1 redis-server)", (host) => {
    let redis: RedisServer;
    let sims: Sims;
    let files: Files;
    let replicaA: Gateway | undefined;
    let replicaB: Gateway | undefined;
    let firstFaultAt: number | undefined;
    const a = () => replicaA!;
    const b = () => replicaB!;
    const why = `weights ${NAMES.map((n, i) => `${n}=${WEIGHTS[i]}`).join(" ")}`;

    /** Every follow-up of `chain` reached the holder and no other backend; returns the holder. */
    const expectOnHolder = (chain: Turn[]): string => {
      const holder = chain[0]!.backend!;
      expect(NAMES, why).toContain(holder);
      for (let k = 1; k < chain.length; k++) {
        expect(chain[k]!.backend, `turn ${k + 1} answered by the holder (${why})`).toBe(holder);
        for (const name of NAMES) {
          expect(followUpsOf(sims[name], chain[k - 1]!.id).length, `${name} received turn ${k + 1} (holder ${holder}, ${why})`).toBe(name === holder ? 1 : 0);
        }
      }
      return holder;
    };

    const redisKey = async (id: string): Promise<string> => redis.command(`GET ${PREFIX}:af:${id}`);
    const inRedis = (id: string, holder: string) => eventually(async () => (await redisKey(id)).includes(holder), 2000);

    beforeAll(async () => {
      redis = await startRedis();
      const list = await startSimulators(NAMES.map((name) => ({
        name,
        apiKey: SIM_KEY,
        requestLogSize: 5000,
        deployments: {
          "gpt-4o": { model: "gpt-4o" },
          // 150 ms between streamed events: a stream still runs while the client acts on its first bytes.
          "slow-stream": { model: "gpt-4o", latency: { streamIntervalMs: 150 } },
          // 100 ms per output token: a background response stays in_progress long enough to poll and cancel it.
          slow: { model: "gpt-4o", latency: { perTokenMs: 100 } },
        },
        latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 2 },
      })));
      sims = Object.fromEntries(list.map((s) => [s.name, s])) as Sims;
      files = writeConfig(sims, redis.port);
      [replicaA, replicaB] = await Promise.all([host.start(files), host.start(files)]);
    });

    afterAll(async () => {
      await Promise.all([replicaA?.stop(), replicaB?.stop()]);
      await stopSimulators(Object.values(sims ?? {}));
      await redis?.stop();
      files?.cleanup();
    });

    beforeEach((ctx) => {
      reportLogsOnFailure(ctx, () => replicaA);
      reportLogsOnFailure(ctx, () => replicaB);
      for (const sim of Object.values(sims)) sim.clearFaults();
    });

    it("three-turn conversations over three randomly weighted backends: every follow-up reaches the holder only (v1, preview and deployment paths, streamed and not, any worker)", async () => {
      const holders = new Set<string>();
      const kinds = FORMS.flatMap((form) => [false, true].flatMap((stream) => [0, 1, 2].map(() => ({ form, stream }))));
      const chains: Turn[][] = kinds.map(() => []);
      // Turn by turn across all 18 chains: the 18 first turns are consecutive picks of the weighted balancer, so they
      // spread over the backends whatever the weights. (Chain by chain, each follow-up also takes a pick, before the
      // companion plugin pins it to its holder, and with some weights every third pick is the same backend.)
      for (let t = 0; t < 3; t++) {
        for (const [k, { form, stream }] of kinds.entries()) {
          chains[k]!.push(await turn(client(a(), form), chains[k]!.at(-1)?.id, stream));
        }
      }
      for (const [k, { form, stream }] of kinds.entries()) {
        holders.add(expectOnHolder(chains[k]!));
        for (const t of chains[k]!.slice(1)) expect(t.attempts, `${form} stream=${stream}`).toBe("1");
      }
      // The weights spread the first turns: the follow-ups did not simply go where everything goes.
      expect(holders.size, why).toBeGreaterThan(1);
      // Each path form is logged the same way: 9 streamed and 9 plain creates, with usage (nginx writes an entry
      // once the response went out: the last ones may take a moment).
      const createsOf = () => parseAccessLog(a().accessLog()).filter((e) => e.request_method === "POST" && e.uri.endsWith("/responses"));
      await eventually(() => createsOf().length >= 54, 3000);
      const creates = createsOf();
      for (const uri of ["/openai/v1/responses", "/openai/responses", "/openai/deployments/gpt-4o/responses"]) {
        const streamed = creates.filter((e) => e.uri === uri && e.request_type === "ai_stream" && e.llm_stream === "true");
        const plain = creates.filter((e) => e.uri === uri && e.request_type === "ai_chat" && e.llm_stream === "false");
        expect([streamed.length, plain.length], uri).toEqual([9, 9]);
        for (const e of [...streamed, ...plain]) expect(Number(e.llm_total_tokens), uri).toBeGreaterThan(0);
      }
    });

    it("two gateway processes share affinity through one redis-server: turns alternate replicas and still reach the holder only", async () => {
      for (const form of FORMS) {
        for (const stream of [false, true]) {
          const chain: Turn[] = [];
          for (let t = 0; t < 3; t++) {
            const previous = chain.at(-1);
            // The push to Redis runs in a timer right after the answer: the other replica can read it once it landed.
            if (previous !== undefined) expect(await inRedis(previous.id, previous.backend!), "affinity pushed to redis").toBe(true);
            chain.push(await turn(client(t % 2 === 0 ? a() : b(), form), previous?.id, stream));
          }
          expectOnHolder(chain);
          for (const t of chain.slice(1)) expect(t.attempts).toBe("1");
        }
      }
    });

    it("a follow-up sent to the other replica before the push reached Redis is still answered by the holder", async () => {
      for (let n = 0; n < 6; n++) {
        const first = await turn(client(a(), "v1"), undefined, false);
        const next = await turn(client(b(), "v1"), first.id, n % 2 === 1);
        expect(next.backend, why).toBe(first.backend);
      }
    });

    it("a streamed response.created is recorded before the client gets the first byte: GETs sent then reach the holder on every worker, and through Redis on the other replica", async () => {
      // Created on north, the backend a lookup without affinity asks last: east and west answer 429 first.
      for (const name of ["east", "west"] as const) sims[name].setFaults([{ kind: "status", status: 429, retryAfterMs: 1000, times: 1 }]);
      const res = await fetch(`${a().url}/openai/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-test-route": "ordered", ...NEW_CONNECTION },
        body: JSON.stringify({ model: "slow-stream", input: "hi", max_output_tokens: 20, stream: true }),
      });
      expect(res.status).toBe(200);
      const holder = res.headers.get("x-gw-backend")!;
      expect([holder, res.headers.get("x-gw-attempts")]).toEqual(["north", "3"]);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      let finished = false;
      const created = /event: response\.created\ndata: (\{.*\})\n/;
      while (!created.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended before response.created");
        text += decoder.decode(value, { stream: true });
      }
      const id = (JSON.parse(created.exec(text)![1]!) as { response: { id: string } }).response.id;
      const rest = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
        finished = true;
      })();

      // Sent after the first bytes arrived, while the stream runs on: the shared dict already knows the holder.
      const retrieve = (gw: Gateway) => client(gw, "v1").responses.retrieve(id).withResponse();
      const workers = await fromEveryWorker(a(), host.workers, () => retrieve(a()), ({ data, response }) => {
        expect(data.id).toBe(id);
        expect(response.headers.get("x-gw-backend")).toBe(holder);
        expect(response.headers.get("x-gw-attempts")).toBe("1");
      });
      expect(workers, "workers of replica A that answered").toBe(host.workers);
      expect(await inRedis(id, holder), "affinity pushed to redis during the stream").toBe(true);
      const viaB = await retrieve(b());
      expect(viaB.response.headers.get("x-gw-backend")).toBe(holder);
      expect(viaB.response.headers.get("x-gw-attempts")).toBe("1");
      expect(finished, "the stream was still running").toBe(false);

      await rest;
      expect(text).toContain("event: response.completed");
      for (const name of NAMES) if (name !== holder) expect(callsFor(sims[name], id), name).toEqual([]);
    });

    it("background responses: GET polling, cancel and input_items reach the holder on every path form, through either replica", async () => {
      for (const form of FORMS) {
        const created = await client(a(), form, "slow").responses.create({ model: "slow", input: "Write slowly.", max_output_tokens: 6, background: true }).withResponse();
        const holder = created.response.headers.get("x-gw-backend")!;
        expect(created.data.status).toBe("in_progress");
        expect(await inRedis(created.data.id, holder)).toBe(true);
        let status = created.data.status;
        for (let poll = 0; status !== "completed" && poll < 40; poll++) {
          await new Promise((r) => setTimeout(r, 50));
          const { data, response } = await client(poll % 2 === 0 ? a() : b(), form, "slow").responses.retrieve(created.data.id).withResponse();
          expect([response.headers.get("x-gw-backend"), response.headers.get("x-gw-attempts")], `${form} poll ${poll}`).toEqual([holder, "1"]);
          status = data.status;
        }
        expect(status, form).toBe("completed");
        const items = await client(b(), form, "slow").responses.inputItems.list(created.data.id).withResponse();
        expect(items.response.headers.get("x-gw-backend"), `${form} input_items`).toBe(holder);
        expect(items.data.data.length).toBe(1);

        const long = await client(a(), form, "slow").responses.create({ model: "slow", input: "Write a long story.", max_output_tokens: 60, background: true }).withResponse();
        const longHolder = long.response.headers.get("x-gw-backend")!;
        const cancelled = await client(a(), form, "slow").responses.cancel(long.data.id).withResponse();
        expect([cancelled.data.status, cancelled.response.headers.get("x-gw-backend"), cancelled.response.headers.get("x-gw-attempts")], `${form} cancel`).toEqual(["cancelled", longHolder, "1"]);
        expect(await inRedis(long.data.id, longHolder)).toBe(true);
        expect((await client(b(), form, "slow").responses.retrieve(long.data.id)).status).toBe("cancelled");

        for (const name of NAMES) {
          if (name !== holder) expect(callsFor(sims[name], created.data.id), `${form}: ${name}`).toEqual([]);
          if (name !== longHolder) expect(callsFor(sims[name], long.data.id), `${form}: ${name}`).toEqual([]);
        }
      }
    });

    it("a follow-up whose holder the gateway never saw (expired, or created elsewhere) is routed normally; a non-holder's previous_response_not_found makes it ask the others, each once", async () => {
      // The ordered route tries east (priority 10), then west (5), then north (0).
      const ordered = (gw: Gateway, form: Form) => client(gw, form, "gpt-4o", { "x-test-route": "ordered" });
      for (const form of FORMS) {
        const direct = await createdOn(sims.north);
        const next = await turn(ordered(a(), form), direct, form === "deployments");
        expect([next.backend, next.attempts], form).toEqual(["north", "3"]);
        for (const name of NAMES) expect(followUpsOf(sims[name], direct).length, `${form}: ${name}`).toBe(1);
        // The response that answered is known, on both replicas once pushed: the next turn goes straight there.
        expect(await inRedis(next.id, "north")).toBe(true);
        const third = await turn(ordered(b(), form), next.id, false);
        expect([third.backend, third.attempts], form).toEqual(["north", "1"]);
      }
    });

    it("invalid_encrypted_content from a non-holder also makes the gateway ask the others", async () => {
      const ordered = client(a(), "v1", "gpt-4o", { "x-test-route": "ordered" });
      const direct = await createdOn(sims.north);
      const faultsBefore = sims.east.stats().faults;
      sims.east.setFaults([{ kind: "status", status: 400, code: "invalid_encrypted_content", message: "The encrypted content gAAA...Rg== could not be verified.", operations: ["responses"], times: 1 }]);
      const next = await turn(ordered, direct, false);
      expect([next.backend, next.attempts]).toEqual(["north", "3"]);
      expect(sims.east.stats().faults - faultsBefore, "east answered invalid_encrypted_content").toBe(1);
    });

    it("an id no backend holds: each is asked once, then the last answer (400 previous_response_not_found) reaches the client as it is", async () => {
      const ordered = client(b(), "preview", "gpt-4o", { "x-test-route": "ordered" });
      const failure = await ordered.responses.create({ model: "gpt-4o", input: "and?", previous_response_id: "resp_nowhere" }).withResponse().catch((e: unknown) => e);
      expect(failure).toMatchObject({ status: 400, code: "previous_response_not_found", param: "previous_response_id" });
      expect((failure as { headers: Headers }).headers.get("x-gw-attempts")).toBe("3");
      for (const name of NAMES) expect(followUpsOf(sims[name], "resp_nowhere").length, name).toBe(1);
      // Any other 400 of a follow-up is relayed at once, from the backend picked.
      const first = await turn(client(a(), "v1"), undefined, false);
      const invalid = await client(a(), "v1").responses.create({ model: "gpt-4o", previous_response_id: first.id } as never).catch((e: unknown) => e);
      expect(invalid).toMatchObject({ status: 400, code: "missing_required_parameter" });
      expect((invalid as { headers: Headers }).headers.get("x-gw-attempts")).toBe("1");
    });

    it("a holder the replica learns of only after its pick (Redis written meanwhile) is asked once, directly: no other backend in between", async () => {
      const direct = await createdOn(sims.north);
      // east is picked first and answers slowly; while it works, the holder appears in Redis (as when another
      // replica's push lands late). east then answers previous_response_not_found.
      sims.east.setFaults([{ kind: "slow-first-byte", delayMs: 800, operations: ["responses"], times: 1 }]);
      const pending = turn(client(a(), "v1", "gpt-4o", { "x-test-route": "ordered" }), direct, false);
      expect(await eventually(() => followUpsOf(sims.east, direct).length > 0, 3000), "east received the follow-up").toBe(true);
      expect(await redis.command(`SET ${PREFIX}:af:${direct} north EX 600`)).toBe("+OK\r\n");
      const next = await pending;
      expect([next.backend, next.attempts]).toEqual(["north", "2"]);
      expect(followUpsOf(sims.west, direct)).toEqual([]);
    });

    /**
     * Responses traffic that needs Redis to know a holder (created on A, continued and looked up on B) and that
     * must all succeed while Redis misbehaves; returns the slowest request (ms).
     */
    const trafficDuringTrouble = async (label: string): Promise<number> => {
      let slowest = 0;
      for (let n = 0; n < 4; n++) {
        const form = FORMS[n % FORMS.length]!;
        const first = await turn(client(a(), form), undefined, n % 2 === 0);
        const second = await turn(client(b(), form), first.id, n % 2 === 1);
        const third = await turn(client(a(), form), second.id, false);
        for (const t of [second, third]) expect(t.backend, `${label}: ${form} (${why})`).toBe(first.backend);
        const started = Date.now();
        const { response } = await client(b(), form).responses.retrieve(third.id).withResponse();
        expect(response.headers.get("x-gw-backend"), `${label}: GET ${form}`).toBe(first.backend);
        slowest = Math.max(slowest, first.ms, second.ms, third.ms, Date.now() - started);
      }
      return slowest;
    };

    const waitForRecovery = async (label: string, since: [number, number]): Promise<void> => {
      const recovered = await eventually(() => [a(), b()].every((gw, i) => ANSWERS_AGAIN.test(gw.errorLog().slice(since[i]))), 5000);
      expect(recovered, `${label}: both replicas noticed that Redis answers again`).toBe(true);
    };
    const logSizes = (): [number, number] => [a().errorLog().length, b().errorLog().length];

    it("Redis slow (every command stalls): every request succeeds, none waits longer than a few Redis timeouts", async () => {
      firstFaultAt ??= Date.now();
      const since = logSizes();
      expect(await redis.command("CLIENT PAUSE 2500 ALL")).toBe("+OK\r\n");
      const slowest = await trafficDuringTrouble("redis paused");
      expect(slowest, "slowest request while Redis stalls (ms)").toBeLessThan(1500);
      await waitForRecovery("redis paused", since);
    });

    it("Redis refusing auth: every request succeeds", async () => {
      firstFaultAt ??= Date.now();
      const since = logSizes();
      // One connection: it stays authenticated after requirepass, and closes every other one (the gateways' pools),
      // so that the gateways reconnect and are refused (NOAUTH).
      const [set, kill] = await redis.commands(["CONFIG SET requirepass s3cret-pass", "CLIENT KILL TYPE normal"]);
      expect([set, kill]).toEqual(["+OK\r\n", expect.stringMatching(/^:\d+\r\n$/)]);
      await trafficDuringTrouble("redis refusing auth");
      expect(await redis.commands(["AUTH s3cret-pass", 'CONFIG SET requirepass ""'])).toEqual(["+OK\r\n", "+OK\r\n"]);
      await waitForRecovery("redis refusing auth", since);
    });

    it("Redis killed mid-run: every request still succeeds and reaches the holder; after a restart the replicas share affinity again", async () => {
      firstFaultAt ??= Date.now();
      const since = logSizes();
      let killed = false;
      for (let c = 0; c < 8; c++) {
        const form = FORMS[c % FORMS.length]!;
        const chain: Turn[] = [];
        for (let t = 0; t < 3; t++) {
          if (c === 3 && t === 1) {
            await redis.kill();
            killed = true;
          }
          chain.push(await turn(client((c + t) % 2 === 0 ? a() : b(), form), chain.at(-1)?.id, (c + t) % 2 === 1));
        }
        for (const t of chain) expect(t.backend, `conversation ${c} (${form}), redis ${killed ? "killed" : "up"} (${why})`).toBe(chain[0]!.backend);
      }
      const unavailable = `${a().errorLog().slice(since[0])}${b().errorLog().slice(since[1])}`;
      expect(unavailable).not.toMatch(/\[error\]/);

      redis = await startRedis({ port: redis.port });
      await waitForRecovery("redis restarted", since);
      const chain: Turn[] = [];
      for (let t = 0; t < 3; t++) {
        const previous = chain.at(-1);
        if (previous !== undefined) expect(await inRedis(previous.id, previous.backend!), "affinity pushed to the restarted redis").toBe(true);
        chain.push(await turn(client(t % 2 === 0 ? a() : b(), "v1"), previous?.id, false));
      }
      expectOnHolder(chain);
    });

    it("Redis trouble is logged once per node per interval, never at error level", () => {
      const elapsed = Date.now() - (firstFaultAt ?? Date.now());
      for (const [name, gw] of [["A", a()], ["B", b()]] as const) {
        const lines = gw.errorLog().match(UNAVAILABLE) ?? [];
        expect(lines.length, `replica ${name}: "redis unavailable" lines in ${elapsed} ms`).toBeGreaterThanOrEqual(1);
        expect(lines.length, `replica ${name}: "redis unavailable" lines in ${elapsed} ms`).toBeLessThanOrEqual(1 + Math.floor(elapsed / REPORT_INTERVAL_MS));
        expect(severeLines(gw.errorLog()), `replica ${name}`).toEqual([]);
      }
    });
  });
}
