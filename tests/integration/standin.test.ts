// TEST CODE. Tests of the nginx rig and the APISIX 3.18 stand-in themselves (tests/rig/nginx.ts, tests/host):
// config loading and reload, schema checks with default injection, phase order, and the launcher's refusals.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { toApisixYaml } from "../rig/apisix-yaml.ts";
import { expectNoErrorLines, reportLogsOnFailure } from "../rig/gateway.ts";
import { startGateway, type StandinGateway } from "../rig/nginx.ts";
import { startUpstream, type FakeUpstream } from "../rig/upstreams.ts";

const ALICE_KEY = "sk-alice-0123456789abcdef";

let dir: string;
let echo: FakeUpstream;

function writeYaml(name: string, doc: unknown, end = true): string {
  const file = path.join(dir, name);
  writeFileSync(file, toApisixYaml(doc, end));
  return file;
}

function routes(extra: Record<string, unknown>[] = []) {
  const upstream = { nodes: { [echo.hostPort]: 1 } };
  return {
    routes: [
      { id: "probe", uri: "/probe", plugins: { "standin-probe": {} }, upstream },
      { id: "authed", uri: "/authed", plugins: { "standin-probe": { greeting: "yo" }, "azure-openai-auth": {} }, upstream },
      { id: "exit", uri: "/exit", plugins: { "standin-probe": { exit_in: "access", code: 429 } }, upstream },
      { id: "off", uri: "/off", plugins: { "standin-probe": { exit_in: "rewrite", _meta: { disable: true } } }, upstream },
      { id: "prefix", uri: "/p/*", plugins: { "standin-probe": { greeting: "prefix" } }, upstream },
      { id: "exact", uri: "/p/exact", plugins: { "standin-probe": { greeting: "exact" } }, upstream },
      { id: "post-only", uri: "/m", methods: ["POST"], plugins: { "standin-probe": {} }, upstream },
      ...extra,
    ],
    consumers: [{ username: "alice", plugins: { "azure-openai-auth": { key: "${{ALICE_KEY}}" } } }],
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "spillway-standin-"));
  echo = await startUpstream("echo");
});

afterAll(async () => {
  await echo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("nginx stand-in: request phases", () => {
  let gw: StandinGateway | undefined;
  let file: string;
  beforeAll(async () => {
    file = writeYaml("phases.yaml", routes());
    gw = await startGateway({ apisixYaml: file, env: { ALICE_KEY } });
  });
  afterAll(() => gw?.stop());
  beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

  it("injects schema defaults into a plugin conf (default=false is not injected, as in APISIX's jsonschema)", async () => {
    const res = await fetch(`${gw!.url}/probe`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.headers.get("x-probe-conf")!)).toEqual({ greeting: "hi", code: 418 });
  });

  it("runs rewrite before access; the consumer set by auth in rewrite is visible in access", async () => {
    const res = await fetch(`${gw!.url}/authed`, { headers: { "api-key": ALICE_KEY } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-probe-trace")).toBe("rewrite:-,access:alice");
    // consumer plugins are merged into the route, so plugin_ctx caches are per route+consumer
    expect(res.headers.get("x-probe-ctx")).toBe("route&consumer#authed&alice");
  });

  it("resolves ${{VAR}} in apisix.yaml from the gateway env", async () => {
    const res = await fetch(`${gw!.url}/authed`, { headers: { "api-key": "${{ALICE_KEY}}" } });
    expect(res.status).toBe(401);
  });

  it("ends the request with a phase's returned code and JSON body (core.response.exit)", async () => {
    const res = await fetch(`${gw!.url}/exit`);
    expect(res.status).toBe(429);
    expect(await res.text()).toBe('{"probe":"access"}\n');
    expect(echo.requests.filter((r) => r.path === "/exit")).toHaveLength(0);
  });

  it("skips a plugin whose conf has _meta.disable", async () => {
    const res = await fetch(`${gw!.url}/off`);
    expect(res.status).toBe(200);
  });

  it("prefers an exact uri over a prefix, and a prefix matches below it", async () => {
    const exact = await fetch(`${gw!.url}/p/exact`);
    expect(JSON.parse(exact.headers.get("x-probe-conf")!).greeting).toBe("exact");
    const prefix = await fetch(`${gw!.url}/p/other/deeper`);
    expect(JSON.parse(prefix.headers.get("x-probe-conf")!).greeting).toBe("prefix");
  });

  it("filters on methods and answers APISIX's 404 for no match", async () => {
    expect((await fetch(`${gw!.url}/m`, { method: "POST" })).status).toBe(200);
    const miss = await fetch(`${gw!.url}/m`);
    expect(miss.status).toBe(404);
    expect(await miss.json()).toEqual({ error_msg: "404 Route Not Found" });
  });

  it("sets the Server header APISIX sets", async () => {
    expect((await fetch(`${gw!.url}/probe`)).headers.get("server")).toBe("APISIX/3.18.0");
  });

  it("logs no [error] lines for all of the above", () => {
    expectNoErrorLines(gw!);
  });

  it("reload() serves the rewritten apisix.yaml", async () => {
    writeYaml("phases.yaml", routes([{ id: "new", uri: "/new", plugins: { "standin-probe": { greeting: "new" } }, upstream: { nodes: { [echo.hostPort]: 1 } } }]));
    await gw!.reload();
    const res = await fetch(`${gw!.url}/new`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.headers.get("x-probe-conf")!).greeting).toBe("new");
    expectNoErrorLines(gw!);
  });
});

describe("nginx stand-in: core.schema.check (JSON-schema subset, APISIX messages)", () => {
  let gw: StandinGateway | undefined;
  beforeAll(async () => {
    gw = await startGateway({ apisixYaml: writeYaml("empty.yaml", { routes: [] }) });
  });
  afterAll(() => gw?.stop());

  async function check(schema: unknown, conf: unknown): Promise<{ ok: boolean; err: string | null; conf: unknown }> {
    const res = await fetch(`${gw!.controlUrl}/schema-check`, { method: "POST", body: JSON.stringify({ schema, conf }) });
    return (await res.json()) as { ok: boolean; err: string | null; conf: unknown };
  }

  const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: "object", properties, ...extra });

  it.each([
    ["type", obj({ a: { type: "integer" } }), { a: "x" }, 'property "a" validation failed: wrong type: expected integer, got string'],
    ["required", obj({ a: { type: "string" } }, { required: ["a"] }), {}, 'property "a" is required'],
    ["enum", obj({ a: { enum: ["x", "y"] } }), { a: "z" }, 'property "a" validation failed: matches non of the enum values'],
    ["minLength", obj({ a: { type: "string", minLength: 16 } }), { a: "short" }, 'property "a" validation failed: string too short, expected at least 16, got 5'],
    ["maxLength", obj({ a: { type: "string", maxLength: 2 } }), { a: "long" }, 'property "a" validation failed: string too long, expected at most 2, got 4'],
    ["pattern", obj({ a: { type: "string", pattern: "^[a-z]+$" } }), { a: "A1" }, 'property "a" validation failed: failed to match pattern "^[a-z]+$" with "A1"'],
    ["minimum", obj({ a: { type: "integer", minimum: 1 } }), { a: 0 }, 'property "a" validation failed: expected 0 to be greater than 1'],
    ["maximum", obj({ a: { type: "integer", maximum: 10 } }), { a: 11 }, 'property "a" validation failed: expected 11 to be smaller than 10'],
    ["minItems", obj({ a: { type: "array", minItems: 1 } }), { a: [] }, 'property "a" validation failed: expect array to have at least 1 items'],
    ["items", obj({ a: { type: "array", items: { type: "string" } } }), { a: ["x", 2] }, 'property "a" validation failed: failed to validate item 2: wrong type: expected string, got number'],
    ["additionalProperties false", obj({ a: {} }, { additionalProperties: false }), { b: 1 }, "additional properties forbidden, found b"],
    ["additionalProperties schema", obj({}, { additionalProperties: { type: "string" } }), { b: 1 }, "failed to validate additional property b: wrong type: expected string, got number"],
    ["oneOf none", { oneOf: [{ type: "string" }, { type: "integer" }] }, true, "value should match only one schema, but matches none"],
    ["anyOf none", { anyOf: [{ required: ["a"] }, { required: ["b"] }] }, { c: 1 }, 'object matches none of the requireds: ["a"] or ["b"]'],
  ])("rejects %s with APISIX's message", async (_name, schema, conf, message) => {
    const out = await check(schema, conf);
    expect(out.ok).toBe(false);
    expect(out.err).toBe(message);
  });

  it("injects defaults, deep-copies table defaults, and leaves default=false out", async () => {
    const schema = obj({ a: { type: "string", default: "x" }, b: { type: "object", default: { algorithm: "roundrobin" } }, c: { type: "boolean", default: false }, d: { type: "boolean", default: true } });
    const out = await check(schema, {});
    expect(out).toEqual({ ok: true, err: null, conf: { a: "x", b: { algorithm: "roundrobin" }, d: true } });
  });

  it("accepts a value matching any anyOf branch and rejects one matching none", async () => {
    const schema = obj({ s: { anyOf: [{ type: "string", enum: ["http_429"] }, { type: "array", items: { type: "string", enum: ["http_429", "http_5xx"] } }] } });
    expect((await check(schema, { s: "http_429" })).ok).toBe(true);
    expect((await check(schema, { s: ["http_5xx"] })).ok).toBe(true);
    expect((await check(schema, { s: ["nope"] })).ok).toBe(false);
  });

  it("does not hold secret references to string constraints", async () => {
    expect((await check(obj({ key: { type: "string", minLength: 16 } }), { key: "$env://K" })).ok).toBe(true);
  });
});

describe("nginx rig: launcher", () => {
  it("refuses an apisix.yaml without the #END marker, as APISIX does", async () => {
    const file = writeYaml("no-end.yaml", { routes: [] }, false);
    await expect(startGateway({ apisixYaml: file })).rejects.toThrow(/#END/);
  });

  it("refuses an unset ${{VAR}} without default", async () => {
    const file = path.join(dir, "unset.yaml");
    writeFileSync(file, "routes:\n  - uri: /x\n    upstream: {nodes: {'${{SPILLWAY_SURELY_UNSET_VAR}}': 1}}\n#END\n");
    await expect(startGateway({ apisixYaml: file })).rejects.toThrow(/SPILLWAY_SURELY_UNSET_VAR/);
  });

  it("leaves no temp directory behind when it refuses a config before starting nginx", async () => {
    const tmp = path.join(dir, "tmp");
    mkdirSync(tmp);
    vi.stubEnv("TMPDIR", tmp); // os.tmpdir() reads it on every call; test files run in separate workers
    try {
      await expect(startGateway({ apisixYaml: writeYaml("refused.yaml", { routes: [] }, false) })).rejects.toThrow(/#END/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("runs several workers, each loading the config", async () => {
    const gw = await startGateway({ apisixYaml: writeYaml("workers.yaml", routes()), workers: 2, env: { ALICE_KEY } });
    try {
      const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(`${gw.url}/probe`).then((r) => r.status)));
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(gw.errorLog().match(/start worker process \d+/g)?.length).toBe(2);
      expectNoErrorLines(gw);
    } finally {
      await gw.stop();
    }
  });
});
