/**
 * The HTTP server of one instance (node:http): reads the body, logs and counts the request, checks the key,
 * and dispatches by route. stop() closes every connection, hung ones included.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import * as errors from "./errors.ts";
import { Exchange } from "./exchange.ts";
import { handleAdmin } from "./handlers/admin.ts";
import { handleInference } from "./handlers/inference.ts";
import { createResponse, manageResponse } from "./handlers/responses.ts";
import type { Instance } from "./instance.ts";
import { matchRoute, type RouteMatch } from "./router.ts";
import { redactHeaders } from "./stats.ts";
import type { RecordedRequest } from "./types.ts";

/** Requests larger than this get 413 (Azure's limit is in the same range). */
const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Longer than nginx/APISIX upstream keepalive timeouts, so the gateway never reuses a socket we just closed. */
const KEEP_ALIVE_TIMEOUT_MS = 75_000;

function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(tooLarge ? "too-large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function credential(req: IncomingMessage): string | undefined {
  const apiKey = req.headers["api-key"];
  if (typeof apiKey === "string" && apiKey !== "") return apiKey;
  const auth = req.headers.authorization;
  const m = typeof auth === "string" ? /^bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m ? m[1]!.trim() : undefined;
}

function parseBodyForLog(text: string): unknown {
  if (text === "") return "";
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function dispatch(inst: Instance, ex: Exchange, route: RouteMatch, query: URLSearchParams, text: string): Promise<void> {
  switch (route.kind) {
    case "chat":
    case "completions":
    case "embeddings":
      return handleInference(inst, ex, route, query, text);
    case "responses":
      return createResponse(inst, ex, route, query, text);
    case "models": {
      if (route.surface !== "v1" && !query.get("api-version")) return ex.error(errors.missingApiVersion());
      const created = Math.floor(inst.conf.clock.now() / 1000);
      const data = [...inst.conf.deployments.values()].map((d) => ({ id: d.name, object: "model", created, owned_by: "system", model: d.model }));
      return ex.json(200, { object: "list", data });
    }
    default:
      return manageResponse(inst, ex, route, query);
  }
}

async function handle(inst: Instance, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ex = new Exchange(req, res, { name: inst.conf.name, region: inst.conf.region, signal: inst.abort.signal });
  const url = new URL(req.url ?? "/", "http://simulator");
  const method = req.method ?? "GET";
  const raw = await readBody(req);
  if (url.pathname.startsWith("/++/")) {
    const key = credential(req);
    if (key === undefined || !inst.isValidKey(key)) return ex.error(errors.unauthorized());
    if (raw === "too-large") return ex.error(errors.bodyTooLarge(MAX_BODY_BYTES));
    return handleAdmin(inst, ex, method, url.pathname, url.searchParams, raw.toString("utf8"));
  }
  const text = raw === "too-large" ? "" : raw.toString("utf8");
  const routed = matchRoute(method, url.pathname);
  const route = routed && "kind" in routed ? routed : undefined;
  const recorded: RecordedRequest = {
    id: ex.requestId,
    time: inst.conf.clock.now(),
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: redactHeaders(req.headers, inst.isValidKey),
    body: parseBodyForLog(text),
  };
  inst.log.add(recorded);
  inst.stats.request(route?.kind ?? "unknown");
  ex.onOutcome = (o) => {
    recorded.outcome = o;
    inst.stats.outcome(o);
  };
  if (!routed) return ex.error(errors.resourceNotFound());
  if (!route) return ex.error(errors.methodNotAllowed());
  const key = credential(req);
  if (key === undefined || !inst.isValidKey(key)) return ex.error(errors.unauthorized());
  if (raw === "too-large") return ex.error(errors.bodyTooLarge(MAX_BODY_BYTES));
  return dispatch(inst, ex, route, url.searchParams, text);
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(inst: Instance): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(inst, req, res).catch((err: unknown) => {
      // A simulator bug: say so in the log (never the request, which holds the key) and answer 500.
      process.stderr.write(`simulator ${inst.conf.name}: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json", "x-sim-instance": inst.conf.name });
        res.end(JSON.stringify({ error: { code: "InternalServerError", message: "Simulator internal error." } }));
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 5_000;
  server.on("connection", (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(inst.conf.port, inst.conf.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        inst.abort.abort();
        inst.responses.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      })),
  };
}
