/**
 * TEST CODE. Fake upstreams named by behaviour (house style §21; APISIX's t/plugin/ai-proxy-multi-retry.t does the
 * same): each listens on 127.0.0.1:0 and records what it received, so "echo" proves what the gateway forwarded and
 * the others let a test count attempts.
 *
 *   echo       200, JSON {method, path, headers, body} of the request it got (OpenAI-chat shaped usage included
 *              when the request looks like a chat call, so AI routes can parse it)
 *   fast-500   500 at once, OpenAI-style error JSON
 *   slow-500   500 after `delayMs` (default 300)
 *   fast-429   429 at once, OpenAI-style error JSON, Retry-After: 1
 *   chat-ok    200 chat.completion with usage {prompt 11, completion 7, total 18}
 *   sse-drip   200 text/event-stream: `events` chat.completion.chunk events `intervalMs` apart, a usage chunk and
 *              `data: [DONE]`; each event written (and flushed) on its own
 *   sse-break  like sse-drip, but destroys the connection after `events` events (no usage, no [DONE])
 *   sse-preamble  200 text/event-stream: Azure's two preamble events (prompt_filter_results, an empty role delta),
 *              then a clean end of the response: no content, no usage, no [DONE]
 *   refused    nothing listens on its port: connects are refused. The port is a low one outside the kernel's
 *              ephemeral range (probed to refuse), never a released ephemeral port: another suite's nginx or
 *              simulator could be handed that number a moment later, and the "dead" backend would then answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type AddressInfo } from "node:net";

export type UpstreamBehaviour = "echo" | "fast-500" | "slow-500" | "fast-429" | "chat-ok" | "sse-drip" | "sse-break" | "sse-preamble" | "refused";

export interface ReceivedRequest {
  method: string;
  /** Path plus query string, as received. */
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface UpstreamOptions {
  /** slow-500: delay before answering. */
  delayMs?: number;
  /** sse-drip: number of content events. */
  events?: number;
  /** sse-drip: gap between events. */
  intervalMs?: number;
  /** Every behaviour: the response body's error message / content tag, to tell instances apart. */
  tag?: string;
}

export interface FakeUpstream {
  behaviour: UpstreamBehaviour;
  port: number;
  /** "127.0.0.1:<port>", as apisix.yaml upstream nodes want it. */
  hostPort: string;
  /** "http://127.0.0.1:<port>", as ai-proxy-multi's override.endpoint wants it. */
  url: string;
  /** Every request received so far, oldest first. */
  requests: ReceivedRequest[];
  /** Responses whose connection closed before the response was complete (e.g. the gateway gave up reading). */
  closedEarly: () => number;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections: () => number;
  /** The body this upstream sent for each request, in the same order (complete once the response ended). */
  responses: string[];
  close(): Promise<void>;
}

/** Usage the chat-ok, echo and sse-drip upstreams report. */
export const FAKE_USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

function openAiError(message: string, code: string): string {
  return JSON.stringify({ error: { message, type: "server_error", param: null, code } });
}

function chatCompletion(tag: string): string {
  return JSON.stringify({
    id: `chatcmpl-${tag}`,
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: `hello from ${tag}` }, finish_reason: "stop" }],
    usage: FAKE_USAGE,
  });
}

function chunk(tag: string, i: number): string {
  return `data: ${JSON.stringify({
    id: `chatcmpl-${tag}`,
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }],
  })}\n\n`;
}

function sseDrip(res: ServerResponse, opts: UpstreamOptions, tag: string, breakAfter?: number): void {
  const events = opts.events ?? 5;
  const interval = opts.intervalMs ?? 50;
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.flushHeaders();
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) {
      clearInterval(timer);
      return;
    }
    if (i < events) {
      res.write(chunk(tag, i));
      i++;
      return;
    }
    clearInterval(timer);
    if (breakAfter !== undefined) {
      res.socket?.destroy();
      return;
    }
    const usage = { id: `chatcmpl-${tag}`, object: "chat.completion.chunk", choices: [], usage: FAKE_USAGE };
    res.write(`data: ${JSON.stringify(usage)}\n\n`);
    res.end("data: [DONE]\n\n");
  }, interval);
}

/** Azure's stream opening: prompt filter results, then the assistant role with empty content (sse-gate holds both). */
function ssePreamble(res: ServerResponse, tag: string): void {
  const base = { id: `chatcmpl-${tag}`, object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o-mini" };
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.write(`data: ${JSON.stringify({ ...base, id: "", choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] })}\n\n`);
  res.end(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })}\n\n`);
}

function respond(behaviour: UpstreamBehaviour, opts: UpstreamOptions, req: ReceivedRequest, res: ServerResponse): void {
  const tag = opts.tag ?? behaviour;
  switch (behaviour) {
    case "echo": {
      const body = JSON.stringify({ ...req, usage: FAKE_USAGE });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(body);
      return;
    }
    case "fast-500":
      res.writeHead(500, { "Content-Type": "application/json", "X-Upstream-Tag": tag });
      res.end(openAiError(`internal error from ${tag}`, "internal_error"));
      return;
    case "slow-500":
      setTimeout(() => {
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(openAiError(`slow internal error from ${tag}`, "internal_error"));
      }, opts.delayMs ?? 300);
      return;
    case "fast-429":
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "1", "X-Upstream-Tag": tag });
      res.end(openAiError(`rate limited by ${tag}`, "429"));
      return;
    case "chat-ok":
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(chatCompletion(tag));
      return;
    case "sse-drip":
      sseDrip(res, opts, tag);
      return;
    case "sse-break":
      sseDrip(res, opts, tag, opts.events ?? 2);
      return;
    case "sse-preamble":
      ssePreamble(res, tag);
      return;
    case "refused":
      res.socket?.destroy();
      return;
  }
}

/** Low ports no test binds and the kernel never hands out for port 0 (tcpmux, echo, discard, daytime). */
const REFUSED_CANDIDATES = [1, 7, 9, 13];

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.setTimeout(1000);
    sock.once("connect", () => (sock.destroy(), resolve(false)));
    sock.once("timeout", () => (sock.destroy(), resolve(false)));
    sock.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

let refusedPortCache: number | undefined;

/** A loopback port where connects are refused, and stay refused for the whole run. */
async function refusedPort(): Promise<number> {
  if (refusedPortCache !== undefined) return refusedPortCache;
  for (const port of REFUSED_CANDIDATES) {
    if (await refuses(port)) return (refusedPortCache = port);
  }
  throw new Error(`the 'refused' upstream needs a loopback port that refuses connects; ${REFUSED_CANDIDATES.join(", ")} all accept (free one)`);
}

/** Starts one fake upstream on 127.0.0.1 with a kernel-chosen port ('refused': see refusedPort). */
export async function startUpstream(behaviour: UpstreamBehaviour, opts: UpstreamOptions = {}): Promise<FakeUpstream> {
  const requests: ReceivedRequest[] = [];
  const responses: string[] = [];
  let closedEarly = 0;
  let connections = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.once("close", () => {
      if (!res.writableFinished) closedEarly++;
    });
    const index = responses.push("") - 1;
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
    const record = (chunk: unknown) => {
      if (typeof chunk === "string" || Buffer.isBuffer(chunk)) responses[index] += chunk.toString();
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (record(chunk), write(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => (record(chunk), end(chunk, ...rest))) as typeof res.end;
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(parts).toString("utf8"),
      };
      requests.push(received);
      respond(behaviour, opts, received, res);
    });
  });
  server.keepAliveTimeout = 5000;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  let { port } = server.address() as AddressInfo;
  if (behaviour === "refused") {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    port = await refusedPort();
  }
  return {
    behaviour,
    port,
    hostPort: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    responses,
    closedEarly: () => closedEarly,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
