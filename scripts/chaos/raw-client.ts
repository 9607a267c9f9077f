/**
 * The raw node:http side of the load: one request, every byte of the answer kept, the transport's end noted, and a
 * hard deadline (a request still open at its deadline is destroyed and reported as a hang). The bad-input clients
 * use the same request with their own bodies, headers and misbehaviour (pause reading, stop sending).
 */
import http from "node:http";

export interface RawRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  /** Sent whole; or `partial` below. */
  body?: string;
  /**
   * Misbehaviour: `stopAfter` sends only the first bytes of the body (Content-Length announces `declaredLength`),
   * then waits `abandonAfterMs` and destroys the connection; `sendUntilAnswer` sends the first chunk and stops
   * sending once an answer arrives (an oversized body the gateway refuses by its Content-Length).
   */
  partial?: { bytes: string; declaredLength: number; abandonAfterMs?: number };
  /** Stop reading the answer for this long once its headers are in (a client that stops reading a stream). */
  pauseReadingMs?: number;
  deadlineMs: number;
  agent?: http.Agent;
}

export interface RawResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  transportError?: string;
  timedOut: boolean;
  /** When the response headers arrived (ms since the epoch). */
  headersAt?: number;
  /** True when the client itself ended the exchange on purpose (partial body then destroy). */
  abandoned: boolean;
}

/** Cap on what is kept of one body (a 600-token stream is ~200 KB). */
const MAX_KEPT = 1 << 20;

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

export function rawRequest(r: RawRequest): Promise<RawResult> {
  return new Promise((resolve) => {
    const out: RawResult = { status: 0, headers: {}, body: "", timedOut: false, abandoned: false };
    const chunks: Buffer[] = [];
    let kept = 0;
    let settled = false;
    let req: http.ClientRequest | undefined;
    const finish = (transportError?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (abandonTimer !== undefined) clearTimeout(abandonTimer);
      if (transportError !== undefined) out.transportError = transportError;
      out.body = Buffer.concat(chunks).toString("utf8");
      resolve(out);
    };
    const deadline = setTimeout(() => {
      out.timedOut = true;
      finish("deadline");
      req?.destroy();
    }, r.deadlineMs);
    let abandonTimer: NodeJS.Timeout | undefined;
    const headers = { ...r.headers };
    if (r.partial !== undefined) headers["content-length"] = String(r.partial.declaredLength);
    else if (r.body !== undefined) headers["content-length"] = String(Buffer.byteLength(r.body));
    req = http.request(r.url, { method: r.method ?? "POST", headers, agent: r.agent ?? false }, (res) => {
      out.status = res.statusCode ?? 0;
      out.headersAt = Date.now();
      out.headers = flatHeaders(res.headers);
      res.on("data", (d: Buffer) => {
        if (kept < MAX_KEPT) chunks.push(d);
        kept += d.length;
      });
      res.once("end", () => finish());
      res.once("aborted", () => finish("aborted mid-body"));
      res.once("error", (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      if (r.pauseReadingMs !== undefined) {
        res.pause();
        setTimeout(() => res.resume(), r.pauseReadingMs);
      }
      // A refused oversized body: stop sending, the answer is all we wanted.
      if (r.partial !== undefined && r.partial.abandonAfterMs === undefined) res.once("end", () => req?.destroy());
    });
    req.once("error", (e: NodeJS.ErrnoException) => finish(out.abandoned ? undefined : (e.code ?? e.message)));
    if (r.partial === undefined) {
      req.end(r.body);
      return;
    }
    const abandonAfterMs = r.partial.abandonAfterMs;
    // The clock for leaving starts once the partial body is on the wire, so the gateway always has a request to log.
    req.write(r.partial.bytes, () => {
      if (abandonAfterMs === undefined || settled) return;
      abandonTimer = setTimeout(() => {
        out.abandoned = true;
        req?.destroy();
        finish();
      }, abandonAfterMs);
    });
  });
}

/** One keep-alive connection per client loop (APISIX listens with reuseport: the loops spread over the workers). */
export function clientAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 1 });
}
