/**
 * The table `spillway demo` prints. Pure: outcomes and simulator counters in, lines out. Where the gateway did
 * not send x-gw-backend / x-gw-attempts the table says so instead of guessing.
 */
import type { SimulatorStats } from "../simulator/index.ts";

export interface Outcome {
  stream: boolean;
  status: number;
  backend: string | null;
  attempts: string | null;
  ms: number;
  chunks?: number;
  error?: string;
}

export interface ReportInput {
  label: string;
  outcomes: Outcome[];
  elapsedMs: number;
  backends: { name: string; priority: number; note: string; stats: SimulatorStats }[];
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function table(rows: string[][], numeric: boolean): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const cell = (text: string, c: number): string => (c === 0 || !numeric ? text.padEnd(widths[c]!) : text.padStart(widths[c]!));
  return rows.map((r) => r.map(cell).join("   ").trimEnd());
}

export function reportLines(input: ReportInput): string[] {
  const o = input.outcomes;
  const ok = o.filter((x) => x.status >= 200 && x.status < 300);
  const client429 = o.filter((x) => x.status === 429).length;
  const otherErrors = o.filter((x) => x.status !== 429 && !(x.status >= 200 && x.status < 300));
  const withAttempts = o.filter((x) => x.attempts !== null && /^\d+$/.test(x.attempts));
  const failovers = withAttempts.reduce((n, x) => n + Math.max(0, Number(x.attempts) - 1), 0);
  const upstream429 = input.backends.reduce((n, b) => n + (b.stats.byStatus["429"] ?? 0), 0);
  const lines = [
    `Spillway demo on ${input.label}`,
    "",
    ...table([
      ["requests sent", `${o.length} (${o.filter((x) => !x.stream).length} chat, ${o.filter((x) => x.stream).length} streamed chat)`],
      ["succeeded", String(ok.length)],
      ["429s the client saw", String(client429)],
      ["other errors", String(otherErrors.length)],
      ["failovers (x-gw-attempts)", withAttempts.length === o.length ? String(failovers) : `${failovers} (header missing on ${o.length - withAttempts.length} responses)`],
      ["429s absorbed from backends", String(upstream429)],
      ["time", `${(input.elapsedMs / 1000).toFixed(1)} s (latency p50 ${percentile(o.map((x) => x.ms), 50)} ms, p95 ${percentile(o.map((x) => x.ms), 95)} ms)`],
    ], false),
    "",
    ...table([
      ["backend", "priority", "served (x-gw-backend)", "requests it saw", "429s it answered"],
      ...input.backends.map((b) => [
        `${b.name} (${b.note})`,
        String(b.priority),
        String(o.filter((x) => x.backend === b.name && x.status >= 200 && x.status < 300).length),
        String(b.stats.total),
        String(b.stats.byStatus["429"] ?? 0),
      ]),
    ], true),
  ];
  if (o.every((x) => x.backend === null)) lines.push("", "note: no response carried x-gw-backend, so 'served' cannot be attributed (is the spillway-failover plugin loaded?)");
  const firstErrors = [...new Set(otherErrors.map((x) => `${x.status || "network"}: ${x.error ?? ""}`))].slice(0, 3);
  if (firstErrors.length > 0) lines.push("", "errors seen:", ...firstErrors.map((e) => `  ${e}`));
  return lines;
}

export function printReport(say: (line: string) => void, input: ReportInput): void {
  for (const line of reportLines(input)) say(line);
}
