/**
 * The shapes every `spillway e2e` module shares: the toolkit's three simulators by role, a check with its figures,
 * one scenario's result (a table, checks, one chart), and the scenario interface the runner drives. Types only.
 */
import type { GatewaySpec } from "./gateway-spec.ts";
import type { Stack } from "./stack.ts";
import type { Traffic } from "./traffic.ts";

/** The toolkit's simulator instances (reference aoai-simulator.md §1.1): one PTU, two pay-as-you-go. */
export const ROLES = ["ptu1", "payg1", "payg2"] as const;
export type Role = (typeof ROLES)[number];

/** --short: seconds per scenario, for CI; --long: the toolkit's users and durations. */
export type LoadKind = "short" | "long";

export type CheckStatus = "pass" | "fail" | "skip";

export interface Check {
  name: string;
  status: CheckStatus;
  /** What was required, with its tolerance ("≤ 0.072 from 0.5"). */
  expected: string;
  /** What was measured. */
  actual: string;
}

export interface Table {
  headers: string[];
  rows: (string | number)[][];
}

export interface Series {
  name: string;
  type: "line" | "bar" | "scatter";
  /** [x, y]: x in seconds since the scenario started (or a category of `categories`). */
  data: [number | string, number][];
  /** 1: the right-hand axis (`y2Name`). */
  yAxis?: 0 | 1;
}

export interface ChartSpec {
  title: string;
  xName: string;
  yName: string;
  y2Name?: string;
  /** Category x axis (bar charts); absent: x is a value (seconds). */
  categories?: string[];
  series: Series[];
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** The load actually driven, in one line (users, duration, request). */
  load: string;
  table: Table;
  checks: Check[];
  chart: ChartSpec;
  notes: string[];
  /** Requests this scenario sent through the gateway (x-chaos-id range), for the access-log ledger. */
  ids: { first: number; last: number };
  /** Checks only the stopped gateway's logs can answer (local mode); run after the run stops the gateway. */
  afterStop?: (logs: GatewayLogs | undefined) => Check[];
  durationMs: number;
}

/** What a local gateway leaves behind once stopped; a deployed one leaves nothing we can read. */
export interface GatewayLogs {
  /** Access-log lines per x-chaos-id (the request ids the traffic sent). */
  linesById: ReadonlyMap<number, number>;
  /** Lua errors in the error log (there should be none). */
  luaErrors: readonly string[];
  /** [error]-and-worse lines by kind, with counts. */
  errorKinds: ReadonlyMap<string, number>;
}

export interface ScenarioContext {
  stack: Stack;
  traffic: Traffic;
  load: LoadKind;
  /** Backend name the gateway reports (x-gw-backend) for a role, as configured for this scenario. */
  backend(role: Role): string;
  say(line: string): void;
}

export interface Scenario {
  name: string;
  title: string;
  /** The toolkit scenario it reproduces (reference aoai-simulator.md §1). */
  toolkit: string;
  /** The gateway settings it needs (rendered locally; printed by --print-env for a deployed gateway). */
  gateway(load: LoadKind): GatewaySpec;
  run(ctx: ScenarioContext): Promise<Omit<ScenarioResult, "name" | "title" | "durationMs" | "ids">>;
}
