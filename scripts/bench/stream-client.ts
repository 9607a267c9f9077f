/**
 * A bounded streaming client: `concurrency` loops each start streamed chat requests until `windowMs` has passed,
 * and record per stream the time to the response headers, to the first content event, and the gaps between
 * content events. Every stream has a timeout; the loops end on the window or the abort signal.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

export interface StreamSample {
  /** ms from sending to the response headers. */
  firstByteMs: number;
  /** ms from sending to the first event whose delta carries content. */
  firstContentMs: number;
  /** ms between consecutive content events (as they reached this client). */
  gapsMs: number[];
  contentEvents: number;
}

export interface StreamRun {
  url: string;
  body: string;
  headers: Record<string, string>;
  concurrency: number;
  windowMs: number;
  signal: AbortSignal;
}

export interface StreamRunResult {
  samples: StreamSample[];
  failures: string[];
}

const STREAM_TIMEOUT_MS = 15_000;
const MAX_STREAMS_PER_LOOP = 1000;

/** True when an SSE `data:` payload is a chat chunk with non-empty delta content. */
export function isContentEvent(data: string): boolean {
  if (!data.startsWith("{") || !data.includes('"content"')) return false;
  try {
    const chunk = JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[] };
    const content = chunk.choices?.[0]?.delta?.content;
    return typeof content === "string" && content.length > 0;
  } catch {
    return false;
  }
}

/** Splits complete SSE events off a buffer; returns their data payloads and the unfinished rest. */
export function takeEvents(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  let start = 0;
  for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n", start)) {
    const lines = buffer.slice(start, end).split("\n");
    const payload = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
    if (payload.length > 0) data.push(payload.join("\n"));
    start = end + 2;
  }
  return { data, rest: buffer.slice(start) };
}

function oneStream(agent: http.Agent, run: StreamRun): Promise<StreamSample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstByteMs = -1;
    let firstContentMs = -1;
    let last = -1;
    const gapsMs: number[] = [];
    let contentEvents = 0;
    let buffer = "";
    const req = http.request(run.url, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(run.body), ...run.headers },
      signal: run.signal,
      timeout: STREAM_TIMEOUT_MS,
    });
    req.once("timeout", () => req.destroy(new Error(`no answer within ${STREAM_TIMEOUT_MS} ms`)));
    req.once("error", reject);
    req.once("response", (res) => {
      firstByteMs = performance.now() - t0;
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode} (${String(res.headers["x-gw-backend"] ?? "")})`));
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const now = performance.now();
        const { data, rest } = takeEvents(buffer + chunk);
        buffer = rest;
        for (const d of data) {
          if (!isContentEvent(d)) continue;
          contentEvents++;
          if (firstContentMs < 0) firstContentMs = now - t0;
          else gapsMs.push(now - last);
          last = now;
        }
      });
      res.once("error", reject);
      res.once("end", () => {
        if (contentEvents === 0) return reject(new Error("the stream carried no content"));
        resolve({ firstByteMs, firstContentMs, gapsMs, contentEvents });
      });
    });
    req.end(run.body);
  });
}

export async function runStreams(run: StreamRun): Promise<StreamRunResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: run.concurrency });
  const samples: StreamSample[] = [];
  const failures: string[] = [];
  const deadline = performance.now() + run.windowMs;
  const loop = async (): Promise<void> => {
    // At least one stream per loop, then more while the window lasts.
    for (let i = 0; i < MAX_STREAMS_PER_LOOP && (i === 0 || performance.now() < deadline) && !run.signal.aborted; i++) {
      try {
        samples.push(await oneStream(agent, run));
      } catch (err) {
        if (run.signal.aborted) return;
        failures.push((err as Error).message);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: run.concurrency }, loop));
  } finally {
    agent.destroy();
  }
  return { samples, failures };
}
