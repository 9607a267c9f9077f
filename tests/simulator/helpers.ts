// Raw HTTP client for the simulator tests: a fresh connection per request, arrival time of every body chunk,
// and the transport error (reset, premature close) instead of a throw.
import { request } from "node:http";

export const KEY = "test-key";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Body chunks with their arrival time (ms, performance.now()). */
  chunks: { at: number; text: string }[];
  /** Time the status line arrived. */
  headersAt: number;
  startedAt: number;
  /** Transport failure (ECONNRESET, aborted stream, timeout); status is 0 if nothing arrived. */
  error?: string;
  json(): any;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Give up (and report error "timeout") after this many ms. */
  timeoutMs?: number;
}

export function raw(base: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(path, base);
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const out: RawResponse = {
      status: 0,
      headers: {},
      body: "",
      chunks: [],
      headersAt: 0,
      startedAt,
      json() {
        return JSON.parse(this.body);
      },
    };
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) out.error = error;
      out.body = out.chunks.map((c) => c.text).join("");
      resolve(out);
    };
    const req = request(
      url,
      {
        method: opts.method ?? (body === undefined ? "GET" : "POST"),
        agent: false,
        headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers },
      },
      (res) => {
        out.status = res.statusCode ?? 0;
        out.headers = res.headers;
        out.headersAt = performance.now();
        res.setEncoding("utf8");
        res.on("data", (text: string) => out.chunks.push({ at: performance.now(), text }));
        res.on("end", () => finish());
        res.on("aborted", () => finish("aborted"));
        res.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
      },
    );
    const timer = setTimeout(() => {
      finish("timeout");
      req.destroy();
    }, opts.timeoutMs ?? 10_000);
    req.on("error", (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    req.end(body);
  });
}

export function post(base: string, path: string, body: unknown, headers: Record<string, string> = { "api-key": KEY }): Promise<RawResponse> {
  return raw(base, path, { method: "POST", body, headers });
}

export interface SseFrame {
  event?: string;
  data: string;
}

/** Split an SSE body into frames; throws if any frame is not terminated by a blank line. */
export function parseSse(body: string): SseFrame[] {
  if (body !== "" && !body.endsWith("\n\n")) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(body.slice(-80))}`);
  return body
    .split("\n\n")
    .filter((f) => f !== "")
    .map((frame) => {
      const out: SseFrame = { data: "" };
      for (const line of frame.split("\n")) {
        if (line.startsWith("event: ")) out.event = line.slice(7);
        else if (line.startsWith("data: ")) out.data = line.slice(6);
        else throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`);
      }
      return out;
    });
}

export const CHAT = (deployment: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  messages: [{ role: "user", content: "Once upon a time" }],
  ...extra,
  ...(deployment ? { model: deployment } : {}),
});

export const dpath = (deployment: string, op: string, apiVersion = "2024-10-21"): string =>
  `/openai/deployments/${deployment}/${op}?api-version=${apiVersion}`;
