/**
 * streaming (no toolkit scenario: its gateway forwards with buffer-response="false"; this makes that measurable).
 * The same streamed chat, alternately direct to the simulator and through the gateway: the same events in the same
 * order (ids, timestamps and the generated words aside), time to first token within 50 ms or 20 % of direct, and
 * the simulator's gap between chunks preserved (median within 25 % of streamIntervalMs, at most 10 % of gaps under
 * half of it: frames were not held back and sent together).
 */
import { atMost, check, near } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import { exchange, keepAliveAgent, type Frame } from "../http-client.ts";
import type { LoadKind, Scenario } from "../model.ts";
import { median, percentile, round } from "../stats.ts";
import { chatPath, type Sent } from "../traffic.ts";
import { chatBody, countWhere, fmtMs, prepareSimulators } from "./common.ts";
import { UNLIMITED } from "./round-robin.ts";

const TTFT_ABS_MS = 50;
const TTFT_REL = 0.2;
const GAP_REL = 0.25;
const MAX_COALESCED = 0.1;

interface Load {
  pairs: number;
  maxTokens: number;
  streamIntervalMs: number;
  baseMs: number;
}

/** --short: 4 pairs of 12-token streams at 25 ms a chunk; --long: 60 pairs of 40 tokens at the simulator's default 20 ms. */
const LOADS: Record<LoadKind, Load> = {
  short: { pairs: 4, maxTokens: 12, streamIntervalMs: 25, baseMs: 50 },
  long: { pairs: 60, maxTokens: 40, streamIntervalMs: 20, baseMs: 100 },
};

interface StreamRun {
  ok: boolean;
  frames: Frame[];
  ttfbMs?: number;
  /** First frame carrying content (delta.content non-empty). */
  ttftMs?: number;
  gaps: number[];
  totalMs: number;
}

/** A frame with what varies between two identical requests replaced: ids, times, fingerprints, the words. */
export function normalizeFrame(f: Pick<Frame, "data" | "event">): string {
  if (!f.data.startsWith("{")) return `${f.event ?? ""}|${f.data}`;
  const scrub = (v: unknown, key?: string): unknown => {
    if (key === "id" || key === "created" || key === "system_fingerprint") return `<${key}>`;
    if (key === "content" && typeof v === "string" && v !== "") return "<text>";
    if (Array.isArray(v)) return v.map((x) => scrub(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x, k)]));
    return v;
  };
  return `${f.event ?? ""}|${JSON.stringify(scrub(JSON.parse(f.data)))}`;
}

const hasContent = (f: Frame): boolean => f.data.includes('"content":"') && !f.data.includes('"content":""');

export function streamFacts(frames: Frame[], ok: boolean, ttfbMs: number | undefined, totalMs: number): StreamRun {
  const content = frames.filter(hasContent);
  const gaps = content.slice(1).map((f, i) => f.atMs - content[i]!.atMs);
  return { ok, frames, ...(ttfbMs !== undefined ? { ttfbMs } : {}), ...(content[0] !== undefined ? { ttftMs: content[0].atMs } : {}), gaps, totalMs };
}

function fromSent(s: Sent): StreamRun {
  return streamFacts(s.frames ?? [], s.status === 200 && s.error === undefined, s.firstByteMs, s.totalMs);
}

export const streaming: Scenario = {
  name: "streaming",
  title: "Streaming through the gateway vs direct",
  toolkit: "none (the toolkit forwards with buffer-response=false); measured here",
  gateway: (): GatewaySpec => ({ backends: [{ role: "payg1" }], clients: 1 }),
  async run(ctx) {
    const load = LOADS[ctx.load];
    await prepareSimulators(ctx, { payg1: { baseMs: load.baseMs, streamIntervalMs: load.streamIntervalMs } });
    const sim = ctx.stack.simulators.payg1;
    const body = chatBody(load.maxTokens, { stream: true, stream_options: { include_usage: true } });
    const direct: StreamRun[] = [];
    const viaGateway: StreamRun[] = [];
    const directAgent = keepAliveAgent(sim.url);
    try {
      for (let i = 0; i < load.pairs; i++) {
        const d = await exchange({ url: `${sim.url}${chatPath(UNLIMITED)}`, headers: { "content-type": "application/json", "api-key": sim.key }, body: JSON.stringify(body), stream: true, deadlineMs: 30_000, agent: directAgent });
        direct.push(streamFacts(d.frames, d.status === 200 && d.error === undefined, d.firstByteMs, d.totalMs));
        viaGateway.push(fromSent(await ctx.traffic.send({ path: chatPath(UNLIMITED), body, client: 0, stream: true })));
      }
    } finally {
      directAgent.destroy();
    }
    const same = direct.filter((d, i) => {
      const g = viaGateway[i]!;
      return d.ok && g.ok && d.frames.length === g.frames.length && d.frames.every((f, j) => normalizeFrame(f) === normalizeFrame(g.frames[j]!));
    }).length;
    const ttft = (runs: StreamRun[]) => median(runs.flatMap((r) => (r.ttftMs !== undefined ? [r.ttftMs] : [])));
    const ttfb = (runs: StreamRun[]) => median(runs.flatMap((r) => (r.ttfbMs !== undefined ? [r.ttfbMs] : [])));
    const gaps = (runs: StreamRun[]) => runs.flatMap((r) => r.gaps);
    const directTtft = ttft(direct);
    const gatewayTtft = ttft(viaGateway);
    const gatewayGaps = gaps(viaGateway);
    const coalesced = gatewayGaps.length > 0 ? countWhere(gatewayGaps, (g) => g < load.streamIntervalMs / 2) / gatewayGaps.length : undefined;
    const allowance = Math.max(TTFT_ABS_MS, TTFT_REL * (directTtft ?? 0));
    const row = (name: string, runs: StreamRun[]): (string | number)[] => [
      name, runs.length, countWhere(runs, (r) => r.ok), median(runs.map((r) => r.frames.length)) ?? "–",
      fmtMs(ttfb(runs)), fmtMs(ttft(runs)),
      fmtMs(median(gaps(runs))), fmtMs(percentile(gaps(runs), 10)), fmtMs(percentile(gaps(runs), 90)), fmtMs(median(runs.map((r) => r.totalMs))),
    ];
    /** Median arrival time of the k-th content frame. */
    const curve = (runs: StreamRun[]): [number, number][] =>
      Array.from({ length: load.maxTokens }, (_, k) => [k + 1, round(median(runs.flatMap((r) => { const f = r.frames.filter(hasContent)[k]; return f !== undefined ? [f.atMs] : []; })) ?? 0, 1)]);
    return {
      load: `${load.pairs} pairs (direct, then through the gateway) of streamed chat, ${load.maxTokens} tokens, include_usage; simulator: ${load.baseMs} ms before the first byte, ${load.streamIntervalMs} ms between chunks`,
      table: { headers: ["path", "streams", "complete", "frames", "TTFB p50", "TTFT p50", "gap p50", "gap p10", "gap p90", "total p50"], rows: [row("direct", direct), row("gateway", viaGateway)] },
      checks: [
        check("same events in the same order as direct (ids, times and words aside)", same === load.pairs, `${load.pairs} of ${load.pairs} pairs`, `${same} of ${load.pairs}`),
        atMost(`gateway TTFT p50 − direct TTFT p50 (≤ ${TTFT_ABS_MS} ms or ${TTFT_REL * 100} % of direct)`, gatewayTtft !== undefined && directTtft !== undefined ? gatewayTtft - directTtft : undefined, allowance, (x) => `${Math.round(x)} ms`),
        near("gateway inter-chunk gap p50 (the simulator's streamIntervalMs)", median(gatewayGaps), load.streamIntervalMs, GAP_REL * load.streamIntervalMs, (x) => `${x.toFixed(1)} ms`),
        atMost(`gaps under half the interval (chunks held back and sent together)`, coalesced, MAX_COALESCED, (x) => `${(100 * x).toFixed(1)} %`),
      ],
      chart: { title: "Arrival of each content chunk (median, ms after sending)", xName: "chunk", yName: "ms", series: [{ name: "direct", type: "line", data: curve(direct) }, { name: "gateway", type: "line", data: curve(viaGateway) }] },
      notes: [
        `TTFB p50 through the gateway − direct: ${fmtMs(ttfb(viaGateway) !== undefined && ttfb(direct) !== undefined ? ttfb(viaGateway)! - ttfb(direct)! : undefined)}; ` +
          "the gateway holds a stream's preamble (prompt filter, role) until the first content frame, so it can still fail over before anything reached the client (plugins/lib/sse-gate.ts): its first byte is the first token",
      ],
    };
  },
};
