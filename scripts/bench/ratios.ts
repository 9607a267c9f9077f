/**
 * Pure: the ratio lines of a report, each between two rows of the same run. On real APISIX they compare like with
 * like (Spillway and stock both with prometheus, or both without) and price the cooled skip and the hops; on the
 * stand-in they are the lines the earlier reports printed.
 */
import type { Engine, StreamTarget, WrkTarget } from "./options.ts";
import { DASH, diff, fmtDeltaMs, fmtRatio, ratio, signedUs, type Summary } from "./report.ts";

type Part = "rps" | "c1" | "cpu" | "calls" | "stream";

interface RatioSpec {
  label: string;
  a: WrkTarget;
  b: WrkTarget;
  parts: Part[];
  /** Whose calls to the throttled backend the "calls" part shows (default: a's). */
  callsOf?: WrkTarget;
}

/** Real APISIX: like-for-like Spillway/stock, prometheus, the cooled skip and the hops. */
const APISIX_RATIOS: RatioSpec[] = [
  { label: "Spillway / stock, both + prometheus", a: "gateway", b: "stock-prom", parts: ["cpu", "rps", "c1"] },
  { label: "Spillway / stock, neither prometheus", a: "gateway-noprom", b: "stock", parts: ["cpu", "rps", "c1"] },
  { label: "prometheus on the route, stock", a: "stock-prom", b: "stock", parts: ["cpu", "rps"] },
  { label: "prometheus on the route, Spillway", a: "gateway", b: "gateway-noprom", parts: ["cpu", "rps"] },
  { label: "cooled skip − no failover (Spillway)", a: "skip", b: "gateway", parts: ["cpu", "rps", "c1", "calls"] },
  { label: "hop − no failover, stock", a: "stock-hop", b: "stock-prom", parts: ["cpu", "rps", "c1", "calls"] },
  { label: "hop − no failover, Spillway", a: "hop", b: "gateway", parts: ["cpu", "rps", "c1", "calls"] },
  { label: "Spillway hop / stock hop", a: "hop", b: "stock-hop", parts: ["cpu", "rps"] },
  { label: "Spillway skip / stock hop", a: "skip", b: "stock-hop", parts: ["cpu", "rps"] },
  { label: "Spillway / raw nginx", a: "gateway", b: "nginx", parts: ["cpu", "rps", "c1"] },
  { label: "Spillway / direct", a: "gateway", b: "direct", parts: ["rps", "c1"] },
  { label: "stream Spillway − direct", a: "gateway", b: "direct", parts: ["stream"] },
  { label: "stream stock − direct", a: "stock-prom", b: "direct", parts: ["stream"] },
];

/** The stand-in's ratios, as the earlier reports printed them. */
const STANDIN_RATIOS: RatioSpec[] = [
  { label: "gateway / direct", a: "gateway", b: "direct", parts: ["rps", "c1"] },
  { label: "gateway / raw nginx", a: "gateway", b: "nginx", parts: ["rps", "c1", "cpu"] },
  { label: "429 hop / no failover", a: "hop", b: "gateway", parts: ["rps", "c1", "cpu", "calls"] },
  { label: "cooled skip / no failover", a: "skip", b: "gateway", parts: ["rps", "c1", "cpu", "calls"] },
  { label: "skip / hop", a: "skip", b: "hop", parts: ["rps", "cpu"] },
  { label: "stream gateway − direct", a: "gateway", b: "direct", parts: ["stream"] },
  { label: "gateway / stock", a: "gateway", b: "stock", parts: ["rps", "c1", "cpu"] },
  { label: "skip / stock-hop", a: "skip", b: "stock-hop", parts: ["rps", "cpu", "calls"], callsOf: "stock-hop" },
  { label: "hop / stock-hop", a: "hop", b: "stock-hop", parts: ["rps", "cpu"] },
  { label: "stream stock − direct", a: "stock", b: "direct", parts: ["stream"] },
];

function present(s: Summary, spec: RatioSpec): boolean {
  if (spec.parts.includes("stream")) {
    return s.firstContentMs[spec.a as StreamTarget] !== undefined && s.firstContentMs[spec.b as StreamTarget] !== undefined;
  }
  return s.rps[spec.a] !== undefined && s.rps[spec.b] !== undefined;
}

function partText(s: Summary, { a, b, callsOf }: RatioSpec, part: Part): string {
  switch (part) {
    case "rps":
      return `req/s ${fmtRatio(ratio(s.rps[a], s.rps[b]))}`;
    case "c1":
      return `c=1 p50 ${fmtDeltaMs(diff(s.c1P50Ms[a], s.c1P50Ms[b]))}`;
    case "cpu":
      return `worker CPU ${fmtRatio(ratio(s.workerCpu[a], s.workerCpu[b]))} (${signedUs(diff(s.workerCpu[a], s.workerCpu[b]))})`;
    case "calls": {
      const c = s.throttledCalls[callsOf ?? a];
      if (c === undefined) return `throttled backend called ${DASH}`;
      return `throttled backend called ${c[0]}× for ${c[1]} requests (${(c[1] > 0 ? c[0] / c[1] : 0).toFixed(2)}/req)`;
    }
    case "stream": {
      const sa = a as StreamTarget;
      const sb = b as StreamTarget;
      return [
        `1st byte p50 ${fmtDeltaMs(diff(s.firstByteMs[sa], s.firstByteMs[sb]))}`,
        `1st content p50 ${fmtDeltaMs(diff(s.firstContentMs[sa], s.firstContentMs[sb]))}`,
        `gap p99 ${fmtDeltaMs(diff(s.gapP99Ms[sa], s.gapP99Ms[sb]))}`,
      ].join("   ");
    }
  }
}

/** The ratios, one per line, aligned; a line appears only when both of its rows ran. */
export function formatRatios(s: Summary, engine: Engine): string {
  const lines: [string, string][] = (engine === "apisix" ? APISIX_RATIOS : STANDIN_RATIOS)
    .filter((spec) => present(s, spec))
    .map((spec) => [spec.label, spec.parts.map((p) => partText(s, spec, p)).join("   ")]);
  if (lines.length === 0) return "";
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}
