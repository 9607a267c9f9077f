/**
 * TEST CODE. What the APISIX stand-in (tests/host) claims to copy from APISIX 3.18.0 about request phases, plugin
 * confs and config loading, written once and run on both hosts: standin.test.ts runs it on the stand-in,
 * standin.apisix.test.ts on real APISIX. A case that passes on one host and fails on the other is a divergence
 * (docs/testing.md, "What real APISIX showed that the stand-in did not"). The test-only probe plugin
 * (tests/host/apisix/plugins/standin-probe.lua) is loaded on both through luaPaths (probeLuaPath).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { repoRoot } from "../../helpers/lua.ts";
import { toApisixYaml } from "../../rig/apisix-yaml.ts";
import { expectNoErrorLines, reportLogsOnFailure, type Gateway } from "../../rig/gateway.ts";
import { startUpstream, type FakeUpstream } from "../../rig/upstreams.ts";
import { caseOn, describeOnHost, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const ALICE_KEY = "sk-alice-0123456789abcdef";
const PROBE = path.join(repoRoot, "tests/host/apisix/plugins/standin-probe.lua");
/** What every failed plugin check logs before the plugin's own message, on both hosts. */
const PROBE_CHECK_FAILED = "err:failed to check the configuration of plugin standin-probe err: ";

/**
 * A Lua root that holds only apisix/plugins/standin-probe.lua, so real APISIX can load the probe without the rest
 * of tests/host (which would shadow APISIX's own modules). The caller removes `dir`.
 */
export function probeLuaPath(): { dir: string; luaPath: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-probe-"));
  chmodSync(dir, 0o755); // real APISIX's workers run as nobody (or the image's apisix user)
  const plugins = path.join(dir, "lua/apisix/plugins");
  mkdirSync(plugins, { recursive: true });
  symlinkSync(PROBE, path.join(plugins, "standin-probe.lua"));
  return { dir, luaPath: path.join(dir, "lua") };
}

/**
 * A temp folder for one suite's YAML files, holding the probe's Lua root too. Made on first use (in beforeAll), so a
 * suite registered as skipped, whose hooks never run, leaves nothing behind.
 */
export function suiteFiles() {
  let probe: { dir: string; luaPath: string } | undefined;
  const made = () => (probe ??= probeLuaPath());
  return {
    get luaPaths(): string[] {
      return [made().luaPath];
    },
    write(name: string, doc: unknown, end = true): string {
      const file = path.join(made().dir, name);
      writeFileSync(file, toApisixYaml(doc, end));
      return file;
    },
    cleanup: () => {
      if (probe) rmSync(probe.dir, { recursive: true, force: true });
    },
  };
}

/**
 * A new upstream object for each route: the yaml library writes an object used twice as an anchor and an alias,
 * which APISIX's lyaml turns into one shared Lua table; APISIX writes resource_key/resource_id into it while checking
 * the first route and then refuses every other route that shares it (docs/testing.md, divergence 9).
 */
function upstreamOf(echo: FakeUpstream) {
  return { nodes: { [echo.hostPort]: 1 } };
}

function routes(echo: FakeUpstream, extra: Record<string, unknown>[] = []) {
  return {
    routes: [
      { id: "probe", uri: "/probe", plugins: { "standin-probe": {} }, upstream: upstreamOf(echo) },
      { id: "authed", uri: "/authed", plugins: { "standin-probe": { greeting: "yo" }, "azure-openai-auth": {} }, upstream: upstreamOf(echo) },
      { id: "exit", uri: "/exit", plugins: { "standin-probe": { exit_in: "access", code: 429 } }, upstream: upstreamOf(echo) },
      { id: "off", uri: "/off", plugins: { "standin-probe": { exit_in: "rewrite", _meta: { disable: true } } }, upstream: upstreamOf(echo) },
      { id: "prefix", uri: "/p/*", plugins: { "standin-probe": { greeting: "prefix" } }, upstream: upstreamOf(echo) },
      { id: "exact", uri: "/p/exact", plugins: { "standin-probe": { greeting: "exact" } }, upstream: upstreamOf(echo) },
      { id: "post-only", uri: "/m", methods: ["POST"], plugins: { "standin-probe": {} }, upstream: upstreamOf(echo) },
      ...extra,
    ],
    consumers: [{ username: "alice", plugins: { "azure-openai-auth": { key: "${{ALICE_KEY}}" } } }],
  };
}

function get(gw: Gateway, uri: string, init: RequestInit = {}): Promise<Response> {
  return fetch(gw.url + uri, { ...init, headers: { ...NEW_CONNECTION, ...(init.headers as Record<string, string>) } });
}

export function phasesSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 request phases, plugin confs and reload", (host) => {
    const files = suiteFiles();
    let echo: FakeUpstream;
    let gw: Gateway | undefined;
    let file: string;
    beforeAll(async () => {
      echo = await startUpstream("echo");
      file = files.write("phases.yaml", routes(echo));
      gw = await host.start({ apisixYaml: file, env: { ALICE_KEY }, luaPaths: files.luaPaths });
    });
    afterAll(async () => {
      await gw?.stop();
      await echo?.close();
      files.cleanup();
    });
    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it("injects schema defaults into a plugin conf, default=false included", async () => {
      const res = await get(gw!, "/probe");
      expect(res.status).toBe(200);
      expect(JSON.parse(res.headers.get("x-probe-conf")!)).toEqual({ greeting: "hi", flag: false, code: 418 });
    });

    it("runs rewrite before access; the consumer set by auth in rewrite is visible in access", async () => {
      const res = await get(gw!, "/authed", { headers: { "api-key": ALICE_KEY } });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-probe-trace")).toBe("rewrite:-,access:alice");
      // consumer plugins are merged into the route, so plugin_ctx caches are per route+consumer
      expect(res.headers.get("x-probe-ctx")).toBe("route&consumer#authed&alice");
    });

    it("resolves ${{VAR}} in apisix.yaml from the gateway env", async () => {
      const res = await get(gw!, "/authed", { headers: { "api-key": "${{ALICE_KEY}}" } });
      expect(res.status).toBe(401);
    });

    it("ends the request with a phase's returned code and JSON body (core.response.exit)", async () => {
      const res = await get(gw!, "/exit");
      expect(res.status).toBe(429);
      expect(await res.text()).toBe('{"probe":"access"}\n');
      expect(echo.requests.filter((r) => r.path === "/exit")).toHaveLength(0);
    });

    it("skips a plugin whose conf has _meta.disable", async () => {
      expect((await get(gw!, "/off")).status).toBe(200);
    });

    it("prefers an exact uri over a prefix, and a prefix matches below it", async () => {
      const exact = await get(gw!, "/p/exact");
      expect(JSON.parse(exact.headers.get("x-probe-conf")!).greeting).toBe("exact");
      const prefix = await get(gw!, "/p/other/deeper");
      expect(JSON.parse(prefix.headers.get("x-probe-conf")!).greeting).toBe("prefix");
    });

    it("filters on methods and answers APISIX's 404 for no match", async () => {
      expect((await get(gw!, "/m", { method: "POST" })).status).toBe(200);
      const miss = await get(gw!, "/m");
      expect(miss.status).toBe(404);
      expect(await miss.json()).toEqual({ error_msg: "404 Route Not Found" });
    });

    it("sets the Server header APISIX sets", async () => {
      expect((await get(gw!, "/probe")).headers.get("server")).toBe("APISIX/3.18.0");
    });

    it("logs no [error] lines for all of the above", () => {
      expectNoErrorLines(gw!);
    });

    it("reload() serves the rewritten apisix.yaml", async () => {
      files.write("phases.yaml", routes(echo, [{ id: "new", uri: "/new", plugins: { "standin-probe": { greeting: "new" } }, upstream: upstreamOf(echo) }]));
      // The rig's reload() returns once the new routes serve (on real 3.18.0 that is after the "reloaded." line
      // and the 0.5 s route sync that follows it: divergence 11).
      await gw!.reload();
      const res = await get(gw!, "/new");
      expect(res.status).toBe(200);
      expect(JSON.parse(res.headers.get("x-probe-conf")!).greeting).toBe("new");
      expectNoErrorLines(gw!);
    });
  });
}

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: "object", properties, ...extra });

/** [name, schema, conf, APISIX's message]: each becomes a route whose probe conf fails core.schema.check. */
const REFUSED: [string, unknown, unknown, string][] = [
  ["type", obj({ a: { type: "integer" } }), { a: "x" }, 'property "a" validation failed: wrong type: expected integer, got string'],
  ["required", obj({ a: { type: "string" } }, { required: ["a"] }), {}, 'property "a" is required'],
  ["enum", obj({ a: { enum: ["x", "y"] } }), { a: "z" }, 'property "a" validation failed: matches none of the enum values'],
  ["minLength", obj({ a: { type: "string", minLength: 16 } }), { a: "short" }, 'property "a" validation failed: string too short, expected at least 16, got 5'],
  ["maxLength", obj({ a: { type: "string", maxLength: 2 } }), { a: "long" }, 'property "a" validation failed: string too long, expected at most 2, got 4'],
  ["pattern", obj({ a: { type: "string", pattern: "^[a-z]+$" } }), { a: "A1" }, 'property "a" validation failed: failed to match pattern "^[a-z]+$" with "A1"'],
  ["minimum", obj({ a: { type: "integer", minimum: 1 } }), { a: 0 }, 'property "a" validation failed: expected 0 to be at least 1'],
  ["maximum", obj({ a: { type: "integer", maximum: 10 } }), { a: 11 }, 'property "a" validation failed: expected 11 to be at most 10'],
  ["exclusiveMinimum", obj({ a: { type: "integer", exclusiveMinimum: 1 } }), { a: 1 }, 'property "a" validation failed: expected 1 to be greater than 1'],
  ["exclusiveMaximum", obj({ a: { type: "integer", exclusiveMaximum: 10 } }), { a: 10 }, 'property "a" validation failed: expected 10 to be smaller than 10'],
  ["minItems", obj({ a: { type: "array", minItems: 1 } }), { a: [] }, 'property "a" validation failed: expect array to have at least 1 items'],
  ["items", obj({ a: { type: "array", items: { type: "string" } } }), { a: ["x", 2] }, 'property "a" validation failed: failed to validate item 2: wrong type: expected string, got number'],
  ["additionalProperties false", obj({ a: {} }, { additionalProperties: false }), { b: 1 }, "additional properties forbidden, found b"],
  ["additionalProperties schema", obj({}, { additionalProperties: { type: "string" } }), { b: 1 }, "failed to validate additional property b: wrong type: expected string, got number"],
  ["oneOf none", { oneOf: [{ type: "string" }, { type: "integer" }] }, true, "value should match only one schema, but matches none"],
  ["anyOf none", { anyOf: [{ required: ["a"] }, { required: ["b"] }] }, { c: 1 }, 'object matches none of the required: ["a"] or ["b"]'],
  ["anyOf of string or array, neither", obj({ s: { anyOf: [{ type: "string", enum: ["http_429"] }, { type: "array", items: { type: "string", enum: ["http_429", "http_5xx"] } }] } }), { s: ["nope"] }, 'property "s" validation failed: object matches none of the required'],
];

/** [route id, schema, conf, the conf after the check (defaults injected)]: each route is served. */
const ACCEPTED: [string, unknown, unknown, unknown][] = [
  [
    "defaults",
    obj({ a: { type: "string", default: "x" }, b: { type: "object", default: { algorithm: "roundrobin" } }, c: { type: "boolean", default: false }, d: { type: "boolean", default: true } }),
    {},
    { a: "x", b: { algorithm: "roundrobin" }, c: false, d: true },
  ],
  ["anyof-string", obj({ s: { anyOf: [{ type: "string", enum: ["http_429"] }, { type: "array", items: { type: "string" } }] } }), { s: "http_429" }, { s: "http_429" }],
  ["anyof-array", obj({ s: { anyOf: [{ type: "string", enum: ["http_429"] }, { type: "array", items: { type: "string" } }] } }), { s: ["http_5xx"] }, { s: ["http_5xx"] }],
];

/**
 * APISIX 3.18.0 passes skip_validation = secret.is_secret_ref to jsonschema (core/schema.lua), so a `$env://` or
 * `$secret://` string is not held to string constraints. The hook needs jsonschema 0.9.13 (the release 3.18.0
 * pins); the apisix-lab runs 0.9.12, which ignores it (its README, deviation 7).
 */
const SECRET_REF: [string, unknown, unknown, unknown] = ["secret-ref", obj({ key: { type: "string", minLength: 16 } }), { key: "$env://K" }, { key: "$env://K" }];
const LAB_JSONSCHEMA = "the apisix-lab runs jsonschema 0.9.12, which has no skip_validation hook (3.18.0 pins 0.9.13)";

export function schemaSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 core.schema.check: messages and default injection (through a plugin's check_schema)", (host) => {
    const files = suiteFiles();
    let gw: Gateway | undefined;
    beforeAll(async () => {
      const refused = REFUSED.map(([, schema, conf], i) => ({ id: `refused-${i}`, uri: `/refused/${i}`, plugins: { "standin-probe": { check: { schema, conf } } } }));
      const accepted = [...ACCEPTED, SECRET_REF].map(([id, schema, conf]) => ({
        id,
        uri: `/accepted/${id}`,
        plugins: { "standin-probe": { check: { schema, conf } }, mocking: { response_example: "ok", with_mock_header: false } },
      }));
      gw = await host.start({ apisixYaml: files.write("schema.yaml", { routes: [...refused, ...accepted] }), luaPaths: files.luaPaths });
    });
    afterAll(async () => {
      await gw?.stop();
      files.cleanup();
    });
    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it.each(REFUSED.map(([name, , , message], i) => [name, i, message] as const))("refuses %s with APISIX's message", async (_name, i, message) => {
      expect(gw!.errorLog()).toContain(`failed to check item data of [routes] ${PROBE_CHECK_FAILED}${message}`);
      expect((await get(gw!, `/refused/${i}`)).status).toBe(404);
    });

    it.each(ACCEPTED)("accepts %s and injects defaults (tables deep-copied, false included)", async (id, _schema, _conf, after) => {
      const res = await get(gw!, `/accepted/${id}`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.headers.get("x-probe-conf")!).check.conf).toEqual(after);
    });

    const onLab = host.name === "apisix" && host.title.includes("(local");
    caseOn(host, onLab ? { apisix: LAB_JSONSCHEMA } : {})("does not hold a secret reference ($env://) to string constraints", async () => {
      const res = await get(gw!, `/accepted/${SECRET_REF[0]}`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.headers.get("x-probe-conf")!).check.conf).toEqual(SECRET_REF[3]);
    });
  });
}

export function workersSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 with several nginx workers", (host) => {
    const files = suiteFiles();
    let echo: FakeUpstream;
    beforeAll(async () => {
      echo = await startUpstream("echo");
    });
    afterAll(async () => {
      await echo?.close();
      files.cleanup();
    });

    it("runs several workers, each loading the config", async () => {
      const gw = await host.start({ apisixYaml: files.write("workers.yaml", routes(echo)), workers: 2, env: { ALICE_KEY }, luaPaths: files.luaPaths });
      try {
        const statuses = await Promise.all(Array.from({ length: 8 }, () => get(gw, "/probe").then((r) => r.status)));
        expect(statuses.every((s) => s === 200)).toBe(true);
        expect(gw.errorLog().match(/start worker process \d+/g)?.length).toBe(2);
        expectNoErrorLines(gw);
      } finally {
        await gw.stop();
      }
    });
  });
}
