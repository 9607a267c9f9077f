// Priority lanes as rendered: the low-lane route vars, when low-lane routes exist, per-lane backend pools, the
// low-priority reserve and per-client budgets.
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkRoute } from "../../renderer/apisix-shapes.ts";
import { renderConfig } from "../../renderer/render.ts";
import { LOW_LANE_VARS } from "../../renderer/routes.ts";
import { loadSettings } from "../../renderer/settings.ts";
import { MINIMAL_ENV } from "./fixtures.ts";

type Obj = Record<string, any>;

function doc(env: Record<string, string>): Obj {
  const { settings, secrets } = loadSettings(env);
  return parse(renderConfig(settings, secrets).apisixYaml, { version: "1.1" }) as Obj;
}

const d0 = (): Obj => doc(MINIMAL_ENV);
const route = (d: Obj, id: string): Obj => d.routes.find((r: Obj) => r.id === id);
const ids = (d: Obj): string[] => d.routes.map((r: Obj) => r.id);
const LOW_ROUTES = ["spillway-chat-low", "spillway-completions-low", "spillway-embeddings-low", "spillway-responses-low"];
const BODYLESS = ["spillway-responses-manage", "spillway-responses-cancel", "spillway-models"];
const API = ["spillway-chat", "spillway-completions", "spillway-embeddings", "spillway-responses"];
const RATE = { ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "1000" };
/** Three backends: east serves only high, west only low, north both. */
const POOLS = {
  ...MINIMAL_ENV,
  AZURE_OPENAI_NAME_0: "east",
  AZURE_OPENAI_LANES_0: "high",
  AZURE_OPENAI_ENDPOINT_1: "https://contoso-west.openai.azure.com",
  AZURE_OPENAI_KEY_1: "west-key-000000000000000000000",
  AZURE_OPENAI_NAME_1: "west",
  AZURE_OPENAI_LANES_1: "low",
  AZURE_OPENAI_ENDPOINT_2: "https://contoso-north.openai.azure.com",
  AZURE_OPENAI_KEY_2: "north-key-00000000000000000000",
  AZURE_OPENAI_NAME_2: "north",
};

/**
 * lua-resty-expr v1.lua's evaluation, for the operators the lane uses: a nil var never matches `~*`, `!` reverses,
 * a list of rules is ANDed, "OR"/"AND" heads combine. (The same four cases were run against the real v1.lua.)
 */
function evalRule(rule: readonly unknown[], vars: Record<string, string | undefined>): boolean {
  const head = rule[0];
  if (Array.isArray(head)) return rule.every((r) => evalRule(r as unknown[], vars));
  if (head === "OR") return rule.slice(1).some((r) => evalRule(r as unknown[], vars));
  if (head === "AND") return rule.slice(1).every((r) => evalRule(r as unknown[], vars));
  const [name, op, value] = rule.length === 4 ? [rule[0], rule[2], rule[3]] : rule;
  expect(op).toBe("~*");
  const left = vars[name as string];
  const matched = left !== undefined && new RegExp(value as string, "i").test(left);
  return rule.length === 4 ? !matched : matched;
}

describe("the low-lane route vars", () => {
  it("say: x-priority low (any case, spaces around); without the header, ?priority=low; the header wins", () => {
    expect(LOW_LANE_VARS).toEqual([
      [
        "OR",
        ["http_x_priority", "~*", "^\\s*low\\s*$"],
        ["AND", ["http_x_priority", "!", "~*", ".*"], ["arg_priority", "~*", "^\\s*low\\s*$"]],
      ],
    ]);
    const d = doc({ ...MINIMAL_ENV, ...RATE, AI_RATE_LIMIT_LOW_LIMIT: "100" });
    for (const id of LOW_ROUTES) expect(route(d, id)).toMatchObject({ priority: 10, vars: LOW_LANE_VARS });
    expect(checkRoute(route(d, "spillway-chat-low"))).toEqual([]);
  });

  it.each([
    ["header low", { http_x_priority: "low" }, true],
    ["header ' LoW '", { http_x_priority: " LoW " }, true],
    ["header high, query low", { http_x_priority: "high", arg_priority: "low" }, false],
    ["no header, query low", { arg_priority: "low" }, true],
    ["no header, query LOW", { arg_priority: "LOW" }, true],
    ["no header, no query", {}, false],
    ["header low, query high", { http_x_priority: "low", arg_priority: "high" }, true],
    ["empty header, query low (present: the plugin answers 400)", { http_x_priority: "", arg_priority: "low" }, false],
    ["header lowest", { http_x_priority: "lowest" }, false],
  ])("%s → low lane: %s", (_case, vars, low) => {
    expect(evalRule(LOW_LANE_VARS, vars)).toBe(low);
  });

  it.each([
    ["a nil right side", [["http_x_priority", "==", null]], "/vars/0: needs a value to compare with (nil is not one)"],
    ["an unknown operator", [["http_x_priority", "=~", "low"]], "/vars/0: has no operator of lua-resty-expr"],
    ["an OR with one rule", [["OR", ["http_x_priority", "~*", "low"]]], "/vars/0: OR needs at least two rules"],
    ["four elements without '!'", [["http_x_priority", "not", "~*", "low"]], '/vars/0: a four-element expression must be [var, "!", op, value]'],
    ["a bare expression", ["http_x_priority", "~*", "low"], "/vars: must be a list of rules"],
    ["a nested bad leaf", [["OR", ["a", "~*", "x"], ["AND", ["b", "~*"], ["c", "~*", "y"]]]], "/vars/0/2/1: must be [var, op, value]"],
  ])("the route check refuses %s", (_case, vars, expected) => {
    const r = { ...route(doc(MINIMAL_ENV), "spillway-chat"), vars };
    expect(checkRoute(r).join("\n")).toContain(`route spillway-chat${expected}`);
  });

  it("the route check accepts a top-level logical operator, as v1.lua does", () => {
    expect(checkRoute({ ...route(doc(MINIMAL_ENV), "spillway-chat"), vars: LOW_LANE_VARS[0] })).toEqual([]);
  });
});

describe("when low-lane routes exist", () => {
  it.each([
    ["AI_RATE_LIMIT_LOW_LIMIT", { ...RATE, AI_RATE_LIMIT_LOW_LIMIT: "100" }],
    ["a client's low budget", { ...RATE, GATEWAY_CLIENT_LOW_TOKEN_LIMIT_0: "100" }],
    ["backend pools that differ by lane", { AZURE_OPENAI_ENDPOINT_1: "https://b.openai.azure.com", AZURE_OPENAI_KEY_1: "k1", AZURE_OPENAI_LANES_1: "low" }],
  ])("with %s: a low route per body-carrying API route", (_case, env) => {
    const d = doc({ ...MINIMAL_ENV, ...env });
    expect(ids(d).filter((id) => id.endsWith("-low"))).toEqual(LOW_ROUTES);
  });

  it.each([
    ["nothing lane-related", {}],
    ["only a low reserve (the plugin reads the lane itself)", { LOW_PRIORITY_RESERVE_TOKENS: "30%", LOW_PRIORITY_RESERVE_REQUESTS: "10" }],
    ["only a client's high budget", { ...RATE, GATEWAY_CLIENT_TOKEN_LIMIT_0: "100" }],
    ["AZURE_OPENAI_LANES_0=high,low", { AZURE_OPENAI_LANES_0: "low, high" }],
  ])("with %s: none", (_case, env) => {
    expect(ids(doc({ ...MINIMAL_ENV, ...env })).filter((id) => id.endsWith("-low"))).toEqual([]);
  });
});

describe("per-lane backend pools (AZURE_OPENAI_LANES_N)", () => {
  const d = doc(POOLS);
  const instances = (id: string): string[] => route(d, id).plugins["ai-proxy-multi"].instances.map((i: Obj) => i.name);

  it("lists on high routes only the backends serving high, on low routes only those serving low", () => {
    for (const id of API) expect(instances(id)).toEqual(["east", "north"]);
    for (const id of LOW_ROUTES) expect(instances(id)).toEqual(["west", "north"]);
  });

  it("keeps every backend on the body-less routes", () => {
    for (const id of BODYLESS) expect(route(d, id).plugins["spillway-failover"].backends.map((b: Obj) => b.name)).toEqual(["east", "west", "north"]);
  });

  it("gives the E2E test routes (no lane of their own) the high pool", () => {
    const e2e = doc({ ...POOLS, GATEWAY_E2E_TEST_MODE: "true", GATEWAY_E2E_ROUTE_PREFIXES: "t" });
    expect(route(e2e, "e2e-t-chat-completions").plugins["ai-proxy-multi"].instances.map((i: Obj) => i.name)).toEqual(["east", "north"]);
  });
});

describe("the low-priority reserve (LOW_PRIORITY_RESERVE_*)", () => {
  it.each([
    [{ LOW_PRIORITY_RESERVE_TOKENS: "20000" }, { tokens: 20000 }],
    [{ LOW_PRIORITY_RESERVE_TOKENS: "30%" }, { tokens_percent: 30 }],
    [{ LOW_PRIORITY_RESERVE_REQUESTS: "5" }, { requests: 5 }],
    [{ LOW_PRIORITY_RESERVE_TOKENS: "12.5%", LOW_PRIORITY_RESERVE_REQUESTS: "10%" }, { tokens_percent: 12.5, requests_percent: 10 }],
  ])("%j renders low_reserve %j on every API route of both lanes, not on body-less routes", (env, reserve) => {
    const d = doc({ ...POOLS, ...env, GATEWAY_E2E_TEST_MODE: "true", GATEWAY_E2E_ROUTE_PREFIXES: "t" });
    for (const id of [...API, ...LOW_ROUTES, "e2e-t-chat-completions"]) expect(route(d, id).plugins["spillway-failover"].low_reserve).toEqual(reserve);
    for (const id of BODYLESS) expect(route(d, id).plugins["spillway-failover"].low_reserve).toBeUndefined();
  });

  it("renders no low_reserve when neither variable is set", () => {
    expect(d0().routes.every((r: Obj) => r.plugins["spillway-failover"]?.low_reserve === undefined)).toBe(true);
  });
});

describe("per-client budgets (GATEWAY_CLIENT_TOKEN_LIMIT_N, GATEWAY_CLIENT_LOW_TOKEN_LIMIT_N)", () => {
  const CLIENTS = {
    ...MINIMAL_ENV,
    ...RATE,
    GATEWAY_CLIENT_NAME_1: "batch",
    GATEWAY_CLIENT_KEY_1: "batch-key-0123456789abcdef",
    GATEWAY_CLIENT_NAME_2: "nightly",
    GATEWAY_CLIENT_KEY_2: "nightly-key-0123456789abcdef",
  };
  const budgets = (d: Obj): Record<string, unknown> => Object.fromEntries(d.consumers.map((c: Obj) => [c.username, c.plugins["azure-openai-auth"].budget]));

  it("gives every consumer a budget: its overrides, else the gateway's limits; low defaults to its high", () => {
    const d = doc({ ...CLIENTS, AI_RATE_LIMIT_LOW_LIMIT: "200", GATEWAY_CLIENT_TOKEN_LIMIT_1: "5000", GATEWAY_CLIENT_LOW_TOKEN_LIMIT_2: "50" });
    expect(budgets(d)).toEqual({ "team-a": { high: 1000, low: 200 }, batch: { high: 5000, low: 200 }, nightly: { high: 1000, low: 50 } });
    const noLow = doc({ ...CLIENTS, GATEWAY_CLIENT_TOKEN_LIMIT_1: "5000" });
    expect(budgets(noLow)).toEqual({ "team-a": { high: 1000, low: 1000 }, batch: { high: 5000, low: 5000 }, nightly: { high: 1000, low: 1000 } });
  });

  it("sizes each lane's rule by the consumer's budget variable", () => {
    const d = doc({ ...CLIENTS, GATEWAY_CLIENT_LOW_TOKEN_LIMIT_1: "50" });
    for (const id of API) {
      expect(route(d, id).plugins["ai-rate-limiting"].rules).toEqual([{ count: "$spillway_budget_high", time_window: 60, key: "$consumer_name", header_prefix: "consumer" }]);
    }
    for (const id of LOW_ROUTES) {
      expect(route(d, id).plugins["ai-rate-limiting"].rules).toEqual([{ count: "$spillway_budget_low", time_window: 60, key: "$consumer_name", header_prefix: "consumer-low" }]);
    }
    expect(route(d, "spillway-chat").plugins["ai-rate-limiting"].rejected_code).toBe(429);
  });

  it("keeps numeric limits and no consumer budget with one gateway-wide bucket", () => {
    const d = doc({ ...MINIMAL_ENV, ...RATE, AI_RATE_LIMIT_LOW_LIMIT: "100", AI_RATE_LIMIT_PER: "gateway" });
    expect(route(d, "spillway-chat").plugins["ai-rate-limiting"]).toMatchObject({ limit: 1000, time_window: 60 });
    expect(route(d, "spillway-chat-low").plugins["ai-rate-limiting"]).toMatchObject({ limit: 100, time_window: 60 });
    expect(d.consumers[0].plugins["azure-openai-auth"]).toEqual({ key: MINIMAL_ENV.GATEWAY_CLIENT_KEY_0 });
  });

  it("renders no budget without rate limiting", () => {
    expect(d0().consumers[0].plugins["azure-openai-auth"]).toEqual({ key: MINIMAL_ENV.GATEWAY_CLIENT_KEY_0 });
  });
});
