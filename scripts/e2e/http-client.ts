/**
 * One HTTP exchange with its timing: when the headers came, when the first body byte came, when it ended, and for a
 * stream each SSE frame with the time its last byte arrived. node:http(s) with a keep-alive agent per simulated user
 * (as Locust's users each keep a connection), so the gateway sees the connection reuse real clients give it.
 */
import http from "node:http";
import https from "node:https";

export interface Exchange {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body?: string;
  /** Parse text/event-stream frames as they arrive. */
  stream?: boolean;
  deadlineMs: number;
  agent?: http.Agent;
}

export interface Frame {
  /** ms after the request was sent when the frame's last byte arrived. */
  atMs: number;
  /** The frame's `data:` payload (several data lines joined by "\n"); `event:` names are kept in `event`. */
  data: string;
  event?: string;
}

export interface ExchangeResult {
  status: number;
  headers: Record<string, string>;
  /** The body (non-stream; capped); "" for streams, whose content is in `frames`. */
  body: string;
  frames: Frame[];
  /** ms after sending: response headers, first body byte, end of the exchange. */
  headersMs?: number;
  firstByteMs?: number;
  totalMs: number;
  /** Epoch ms when it was sent. */
  sentAt: number;
  error?: string;
}

const MAX_KEPT = 1 << 20;

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

/** Splits complete SSE frames off `buffer`; returns the frames and the incomplete rest. */
export function takeFrames(buffer: string): { frames: { data: string; event?: string }[]; rest: string } {
  const frames: { data: string; event?: string }[] = [];
  const normalized = buffer.replace(/\r\n/g, "\n");
  let start = 0;
  for (let end = normalized.indexOf("\n\n", start); end >= 0; end = normalized.indexOf("\n\n", start)) {
    const block = normalized.slice(start, end);
    start = end + 2;
    const data: string[] = [];
    let event: string | undefined;
    for (const line of block.split("\n")) {
      if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      else if (line.startsWith("event:")) event = line.slice(6).trim();
    }
    if (data.length > 0 || event !== undefined) frames.push({ data: data.join("\n"), ...(event !== undefined ? { event } : {}) });
  }
  return { frames, rest: normalized.slice(start) };
}

export function keepAliveAgent(url: string): http.Agent {
  return url.startsWith("https:") ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
}

export function exchange(x: Exchange): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const sentAt = Date.now();
    const t0 = performance.now();
    const since = (): number => performance.now() - t0;
    const out: ExchangeResult = { status: 0, headers: {}, body: "", frames: [], totalMs: 0, sentAt };
    const chunks: Buffer[] = [];
    let kept = 0;
    let pending = "";
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      out.totalMs = since();
      if (error !== undefined) out.error = error;
      if (!x.stream) out.body = Buffer.concat(chunks).toString("utf8");
      resolve(out);
    };
    const headers = { ...x.headers, ...(x.body !== undefined ? { "content-length": String(Buffer.byteLength(x.body)) } : {}) };
    const request = x.url.startsWith("https:") ? https.request : http.request;
    const req = request(x.url, { method: x.method ?? "POST", headers, agent: x.agent ?? false }, (res) => {
      out.status = res.statusCode ?? 0;
      out.headersMs = since();
      out.headers = flatHeaders(res.headers);
      const streaming = x.stream === true && (out.headers["content-type"] ?? "").startsWith("text/event-stream");
      res.on("data", (d: Buffer) => {
        const at = since();
        out.firstByteMs ??= at;
        if (streaming) {
          const { frames, rest } = takeFrames(pending + d.toString("utf8"));
          pending = rest;
          for (const f of frames) out.frames.push({ atMs: at, ...f });
        } else if (kept < MAX_KEPT) {
          chunks.push(d);
          kept += d.length;
        }
      });
      res.once("end", () => {
        // A non-stream answer to a stream request (an error) is kept as a body.
        if (x.stream === true && !streaming) out.body = Buffer.concat(chunks).toString("utf8");
        finish();
      });
      res.once("aborted", () => finish("aborted mid-body"));
      res.once("error", (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    });
    const deadline = setTimeout(() => {
      finish("deadline");
      req.destroy();
    }, x.deadlineMs);
    req.once("error", (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    req.end(x.body);
  });
}
