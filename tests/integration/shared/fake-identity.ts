/**
 * TEST CODE. A local managed-identity token endpoint (node:http) that speaks both protocols the gateway uses:
 *  - Container Apps / App Service: GET <IDENTITY_ENDPOINT>?resource=…&api-version=2019-08-01[&client_id=…] with
 *    `X-IDENTITY-HEADER: <IDENTITY_HEADER>` (the gateway gets `endpoint` and `header` as those two variables);
 *  - IMDS: GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…[&client_id=…] with `Metadata: true`
 *    (the gateway is pointed at it with SPILLWAY_TEST_IMDS_ENDPOINT=<url>, a test-only override).
 * A request that breaks the protocol gets a 400 and is recorded as such. Behaviour is set per client id (the
 * system-assigned identity is ""), so one gateway can run many independent cases: the token to issue (a fixed
 * string, or a new one per call), its lifetime and how the expiry is written, a status to refuse with, a delay, or
 * a reset connection. Every token issued is kept with its expiry, so a backend can tell a live token from an
 * expired one (startTokenCheckingFront).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const RESOURCE = "https://cognitiveservices.azure.com";
export const CONTAINER_APPS_PATH = "/msi/token";
export const IMDS_PATH = "/metadata/identity/oauth2/token";

export type ExpiryStyle = "expires_on-string" | "expires_on-number" | "expires_in-string" | "expires_in-number";

export interface IdentityBehaviour {
  /** A fixed access_token, or "unique" for `tok-<client>-<n>` (a new one per call). */
  token: string;
  lifetimeS: number;
  expiry: ExpiryStyle;
  /** Answer with this status and an Entra-style error body instead of a token (200 = issue a token). */
  status: number;
  /** Wait this long before answering. */
  delayMs: number;
  /** Drop the connection without an answer (an endpoint that is down). */
  reset: boolean;
}

export interface TokenCall {
  time: number;
  protocol: "container-apps" | "imds" | "invalid";
  /** "" for the system-assigned identity. */
  clientId: string;
  /** A token was issued. */
  issued: boolean;
}

export interface FakeIdentity {
  url: string;
  /** IDENTITY_ENDPOINT for the Container Apps protocol. */
  endpoint: string;
  /** IDENTITY_HEADER the endpoint expects. */
  header: string;
  behave(clientId: string, behaviour: Partial<IdentityBehaviour>): void;
  calls(clientId?: string): TokenCall[];
  /** "valid" for a token this endpoint issued that has not expired at `at` (ms), else "expired" or "unknown". */
  verdict(token: string, at?: number): "valid" | "expired" | "unknown";
  /** Every access_token issued so far. */
  issued(): string[];
  stop(): Promise<void>;
}

const DEFAULT: IdentityBehaviour = { token: "unique", lifetimeS: 3600, expiry: "expires_on-string", status: 200, delayMs: 0, reset: false };

function protocolOf(req: IncomingMessage, url: URL, header: string): TokenCall["protocol"] {
  const q = url.searchParams;
  if (q.get("resource") !== RESOURCE) return "invalid";
  if (url.pathname === CONTAINER_APPS_PATH) {
    return q.get("api-version") === "2019-08-01" && req.headers["x-identity-header"] === header ? "container-apps" : "invalid";
  }
  if (url.pathname === IMDS_PATH) {
    return q.get("api-version") === "2018-02-01" && req.headers.metadata === "true" ? "imds" : "invalid";
  }
  return "invalid";
}

/** The answer, and when the token really expires (ms): expires_on is whole seconds, so it can be up to 1 s early. */
function tokenBody(token: string, b: IdentityBehaviour, clientId: string): { body: Record<string, unknown>; expiresAt: number } {
  const now = Date.now();
  const expiresOn = Math.floor(now / 1000) + b.lifetimeS;
  const byExpiresOn = b.expiry.startsWith("expires_on");
  const body: Record<string, unknown> = { access_token: token, resource: RESOURCE, token_type: "Bearer" };
  if (clientId !== "") body.client_id = clientId;
  if (b.expiry === "expires_on-string") body.expires_on = String(expiresOn);
  if (b.expiry === "expires_on-number") body.expires_on = expiresOn;
  if (b.expiry === "expires_in-string") body.expires_in = String(b.lifetimeS);
  if (b.expiry === "expires_in-number") body.expires_in = b.lifetimeS;
  return { body, expiresAt: byExpiresOn ? expiresOn * 1000 : now + b.lifetimeS * 1000 };
}

export async function startFakeIdentity(header = "fake-identity-header-0123456789"): Promise<FakeIdentity> {
  const behaviours = new Map<string, IdentityBehaviour>();
  const calls: TokenCall[] = [];
  const ledger = new Map<string, number>();
  const sockets = new Set<Socket>();
  let serial = 0;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const clientId = url.searchParams.get("client_id") ?? "";
    const protocol = req.method === "GET" ? protocolOf(req, url, header) : "invalid";
    const b = behaviours.get(clientId) ?? DEFAULT;
    const call: TokenCall = { time: Date.now(), protocol, clientId, issued: false };
    calls.push(call);
    const answer = (): void => {
      if (protocol === "invalid") {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_request", error_description: "Bad protocol" }));
        return;
      }
      if (b.reset) {
        req.socket.destroy();
        return;
      }
      if (b.status !== 200) {
        res.writeHead(b.status, { "content-type": "application/json" })
          .end(JSON.stringify({ error: "invalid_request", error_description: `Identity not found (fake ${b.status})` }));
        return;
      }
      const token = b.token === "unique" ? `tok-${clientId || "system"}-${++serial}` : b.token;
      const { body, expiresAt } = tokenBody(token, b, clientId);
      ledger.set(token, expiresAt);
      call.issued = true;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (b.delayMs > 0) setTimeout(answer, b.delayMs);
    else answer();
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    endpoint: `${url}${CONTAINER_APPS_PATH}`,
    header,
    behave: (clientId, behaviour) => behaviours.set(clientId, { ...(behaviours.get(clientId) ?? DEFAULT), ...behaviour }),
    calls: (clientId) => calls.filter((c) => clientId === undefined || c.clientId === clientId).map((c) => ({ ...c })),
    verdict: (token, at = Date.now()) => {
      const expires = ledger.get(token);
      if (expires === undefined) return "unknown";
      return at < expires ? "valid" : "expired";
    },
    issued: () => [...ledger.keys()],
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TokenCheckingFront {
  url: string;
  /** What each request carried: the token's verdict at arrival, and whether an api-key header came along. */
  seen(): { verdict: "valid" | "expired" | "unknown" | "none"; apiKey: boolean }[];
  stop(): Promise<void>;
}

/**
 * A backend front that checks every Bearer token against the fake identity's ledger when the request arrives, then
 * forwards the request to `target` (a simulator) with the simulator's own key, and streams the answer back.
 */
export async function startTokenCheckingFront(identity: FakeIdentity, target: string, targetKey: string): Promise<TokenCheckingFront> {
  const seen: ReturnType<TokenCheckingFront["seen"]> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const auth = req.headers.authorization;
    const m = typeof auth === "string" ? /^Bearer (.+)$/.exec(auth) : null;
    seen.push({ verdict: m ? identity.verdict(m[1]!) : "none", apiKey: req.headers["api-key"] !== undefined });
    const headers = { ...req.headers, authorization: `Bearer ${targetKey}` };
    delete headers.host;
    const upstream = httpRequest(`${target}${req.url ?? "/"}`, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: () => [...seen],
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
