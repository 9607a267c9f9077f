/**
 * Turns `spillway simulator` flags and an optional JSON config file into SimulatorOptions[] (pure apart from
 * reading the files). Config file: one instance object, or {"apiKey"?, "host"?, "instances": [ … ]}.
 */
import { readFileSync } from "node:fs";
import { ConfigError, UsageError } from "../../lib/errors.ts";
import type { DeploymentOptions, LatencyOptions, SimulatorOptions } from "./types.ts";
import { TOOLKIT_DEPLOYMENTS } from "./index.ts";

export interface SimulatorFlags {
  config?: string;
  instance?: string;
  port?: string;
  host?: string;
  apiKey?: string;
  deployments?: string;
  region?: string;
  baseLatency?: string;
  perTokenLatency?: string;
  streamInterval?: string;
}

const DEFAULT_PORT = 8000;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError([`${what} ${path} is not valid JSON: ${(err as Error).message}`]);
  }
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number >= 0 (got "${value}")`);
  return n;
}

function flagLatency(flags: SimulatorFlags): LatencyOptions | undefined {
  const l: LatencyOptions = {
    baseMs: number("--base-latency", flags.baseLatency),
    perTokenMs: number("--per-token-latency", flags.perTokenLatency),
    streamIntervalMs: number("--stream-interval", flags.streamInterval),
  };
  return Object.values(l).some((v) => v !== undefined) ? l : undefined;
}

export function simulatorOptionsFromFlags(flags: SimulatorFlags): SimulatorOptions[] {
  const port = number("--port", flags.port) ?? DEFAULT_PORT;
  const latency = flagLatency(flags);
  const deployments = flags.deployments
    ? (readJson(flags.deployments, "deployment config") as Record<string, DeploymentOptions>)
    : undefined;
  if (!flags.config) {
    return [
      {
        name: flags.instance ?? "sim",
        port,
        host: flags.host,
        apiKey: requireKey(flags.apiKey, "sim"),
        deployments: deployments ?? TOOLKIT_DEPLOYMENTS,
        latency,
        region: flags.region,
      },
    ];
  }
  const raw = readJson(flags.config, "simulator config");
  if (!raw || typeof raw !== "object") throw new ConfigError([`simulator config ${flags.config}: must be a JSON object`]);
  const file = raw as Record<string, unknown>;
  const entries = Array.isArray(file.instances) ? (file.instances as Partial<SimulatorOptions>[]) : [file as Partial<SimulatorOptions>];
  const chosen = flags.instance && Array.isArray(file.instances) ? entries.filter((e) => e.name === flags.instance) : entries;
  if (chosen.length === 0) throw new UsageError(`--instance ${flags.instance}: no such instance in ${flags.config}`);
  return chosen.map((e, i) => {
    const name = e.name ?? flags.instance ?? `sim${i + 1}`;
    return {
      ...e,
      name,
      // Flags win over the file; instances without a port take consecutive ports from --port (0: any free port).
      port: flags.port !== undefined && chosen.length === 1 ? port : (e.port ?? (port === 0 ? 0 : port + i)),
      host: flags.host ?? e.host ?? (file.host as string | undefined),
      apiKey: requireKey(flags.apiKey ?? e.apiKey ?? (file.apiKey as string | undefined), name),
      deployments: deployments ?? e.deployments ?? TOOLKIT_DEPLOYMENTS,
      latency: latency ? { ...e.latency, ...latency } : e.latency,
      region: flags.region ?? e.region,
    };
  });
}

function requireKey(key: string | undefined, name: string): string {
  if (key) return key;
  throw new UsageError(`simulator ${name}: no API key; pass --api-key, set SIMULATOR_API_KEY, or put "apiKey" in the config file`);
}
