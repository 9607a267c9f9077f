/**
 * Which headers cross the gateway, each way. Portable TS (Lua and JS alike); the per-header loops use only
 * table lookups and string.lower (no TSTL lualib), Connection-token parsing only runs when that header exists.
 *
 * Request (client → backend), dropped:
 *   credential   authorization, api-key, ocp-apim-subscription-key, cookie: the client's keys are for the
 *                gateway, never for a backend (APISIX 3.18 forwards every client header; contract §5.3)
 *   gateway      x-gw-*: our namespace, a client must not be able to spoof it
 *   hop-by-hop   RFC 9110 §7.6.1 list, plus every name the Connection header lists
 *   transport    host, content-length (the transport sets them), accept-encoding (the SSE gate reads the
 *                bytes, so backends must not compress)
 * Response (backend → client): everything except hop-by-hop (and Connection-listed names), upstream x-gw-*,
 * and content-length when the body is re-chunked. So x-ratelimit-*, retry-after(-ms), x-ms-region,
 * apim-request-id, x-request-id, content-type... reach the client.
 */
import type { HeaderTable, HeaderValue } from "./header-table";

export type DropReason = "credential" | "gateway" | "hop-by-hop" | "transport";

const HOP_BY_HOP: { [name: string]: true | undefined } = {
  connection: true,
  "keep-alive": true,
  "proxy-authenticate": true,
  "proxy-authorization": true,
  "proxy-connection": true,
  te: true,
  trailer: true,
  trailers: true,
  "transfer-encoding": true,
  upgrade: true,
};

const CREDENTIALS: { [name: string]: true | undefined } = {
  authorization: true,
  "api-key": true,
  "ocp-apim-subscription-key": true,
  cookie: true,
};

const TRANSPORT: { [name: string]: true | undefined } = {
  host: true,
  "content-length": true,
  "accept-encoding": true,
};

export function isHopByHop(this: void, lowerName: string): boolean {
  return HOP_BY_HOP[lowerName] === true;
}

/**
 * Whether a lower-cased name is in our `x-gw-` namespace. Compared byte by byte: this runs for every header of every
 * request and answer, and a slice would allocate a string each time.
 */
export function isGatewayHeader(this: void, lowerName: string): boolean {
  return lowerName.charCodeAt(0) === 120 && lowerName.charCodeAt(1) === 45 && lowerName.charCodeAt(2) === 103 &&
    lowerName.charCodeAt(3) === 119 && lowerName.charCodeAt(4) === 45;
}

/** Header names seen (as received) → lower-cased; bounded, since clients choose the names. */
const MAX_LOWER_NAMES = 1024;
let lowerNames: { [name: string]: string | undefined } = {};
let lowerNameCount = 0;

/**
 * `name` lower-cased, remembered: the same few dozen names come with every request and answer, and a table lookup
 * costs less than lower-casing (which makes and interns a new string) each time.
 */
export function lowerName(this: void, name: string): string {
  const known = lowerNames[name];
  // typeof: in JS, lowerNames["constructor"] is Object's.
  if (typeof known === "string") return known;
  const lower = name.toLowerCase();
  if (lowerNameCount >= MAX_LOWER_NAMES) {
    lowerNames = {};
    lowerNameCount = 0;
  }
  lowerNames[name] = lower;
  lowerNameCount++;
  return lower;
}

/** Why a request header (lower-cased name) is not forwarded, or undefined when it is. */
export function requestDropReason(this: void, lowerName: string): DropReason | undefined {
  if (CREDENTIALS[lowerName] === true) return "credential";
  if (isGatewayHeader(lowerName)) return "gateway";
  if (HOP_BY_HOP[lowerName] === true) return "hop-by-hop";
  if (TRANSPORT[lowerName] === true) return "transport";
  return undefined;
}

/**
 * What nginx's own proxy module does not pass from an upstream by default (proxy_hide_header's defaults): the
 * gateway's nginx writes its own Date and Server, and X-Pad and X-Accel-* are instructions to nginx, not the client.
 */
const PROXY_HIDDEN: { [name: string]: true | undefined } = {
  date: true,
  server: true,
  "x-pad": true,
  "x-accel-expires": true,
  "x-accel-redirect": true,
  "x-accel-limit-rate": true,
  "x-accel-buffering": true,
  "x-accel-charset": true,
};

/** Whether a response header (lower-cased name) is kept from the client. */
export function responseDropped(this: void, lowerName: string, rechunked: boolean): boolean {
  if (HOP_BY_HOP[lowerName] === true) return true;
  if (PROXY_HIDDEN[lowerName] === true) return true;
  if (isGatewayHeader(lowerName)) return true;
  return rechunked && lowerName === "content-length";
}

function addTokensOfLine(this: void, into: { [name: string]: true | undefined }, value: string): void {
  const lower = value.toLowerCase();
  let pos = 0;
  const n = lower.length;
  while (pos <= n) {
    let comma = lower.indexOf(",", pos);
    if (comma < 0) comma = n;
    let start = pos;
    let stop = comma;
    while (start < stop && (lower.charCodeAt(start) === 32 || lower.charCodeAt(start) === 9)) start++;
    while (stop > start && (lower.charCodeAt(stop - 1) === 32 || lower.charCodeAt(stop - 1) === 9)) stop--;
    if (stop > start) into[lower.slice(start, stop)] = true;
    pos = comma + 1;
  }
}

/** The tokens of a Connection header, one line or several. */
function addTokens(this: void, into: { [name: string]: true | undefined }, value: HeaderValue): void {
  if (typeof value === "string") addTokensOfLine(into, value);
  else for (const line of value) addTokensOfLine(into, line);
}

/** Names listed in Connection (e.g. "close, x-foo" → {close, x-foo}), or undefined when there is none. */
export function connectionTokens(this: void, headers: HeaderTable): { [name: string]: true | undefined } | undefined {
  let value: HeaderValue | undefined;
  for (const name in headers) {
    if (name.toLowerCase() === "connection") value = headers[name];
  }
  if (value === undefined) return undefined;
  const tokens: { [name: string]: true | undefined } = {};
  addTokens(tokens, value);
  return tokens;
}

/**
 * The client's headers that may go to a backend, names lower-cased, values (and arrays) unchanged. One pass: the
 * names Connection lists (rare) are taken out afterwards.
 */
export function forwardRequestHeaders(this: void, client: HeaderTable, into?: HeaderTable): HeaderTable {
  // `into`: an empty table to fill (the caller may have one with room for the headers already).
  const out: HeaderTable = into ?? {};
  let connection: HeaderValue | undefined;
  for (const name in client) {
    const lower = lowerName(name);
    if (lower === "connection") connection = client[name];
    else if (requestDropReason(lower) === undefined) out[lower] = client[name];
  }
  if (connection !== undefined) {
    const listed: { [name: string]: true | undefined } = {};
    addTokens(listed, connection);
    for (const token in listed) delete out[token];
  }
  return out;
}

/** Connection tokens by header value: a backend sends the same one (`keep-alive`) on every answer. */
let tokensByValue: { [value: string]: { [name: string]: true | undefined } | undefined } = {};
let tokensByValueCount = 0;
const MAX_TOKEN_VALUES = 64;

/**
 * Names listed in Connection of headers whose names are already lower-cased (one lookup instead of a scan), or
 * undefined when there is none. The result is shared: read it, never change it.
 */
export function connectionTokensOfLower(this: void, headers: HeaderTable): { [name: string]: true | undefined } | undefined {
  const value = headers["connection"];
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    let known = tokensByValue[value];
    if (typeof known === "object") return known;
    known = {};
    addTokens(known, value);
    if (tokensByValueCount >= MAX_TOKEN_VALUES) {
      tokensByValue = {};
      tokensByValueCount = 0;
    }
    tokensByValue[value] = known;
    tokensByValueCount++;
    return known;
  }
  const tokens: { [name: string]: true | undefined } = {};
  addTokens(tokens, value);
  return tokens;
}

export function relayed(
  this: void,
  lowerName: string,
  rechunked: boolean,
  listed: { [name: string]: true | undefined } | undefined,
): boolean {
  return !responseDropped(lowerName, rechunked) && (listed === undefined || listed[lowerName] !== true);
}

/** The backend's headers the client gets, names lower-cased. rechunked: the body is not sent as received. */
export function relayResponseHeaders(this: void, upstream: HeaderTable, rechunked: boolean): HeaderTable {
  const listed = connectionTokens(upstream);
  const out: HeaderTable = {};
  for (const name in upstream) {
    const lower = lowerName(name);
    if (relayed(lower, rechunked, listed)) out[lower] = upstream[name];
  }
  return out;
}

/** Longest backend name put in x-gw-backend; instance names are short, this only bounds a bad config. */
const MAX_NAME = 128;

/** A header-safe form of a backend name: visible ASCII except separators kept, anything else → "_". */
export function headerSafe(this: void, name: string): string {
  const n = name.length < MAX_NAME ? name.length : MAX_NAME;
  let safe = n === name.length;
  for (let i = 0; i < n && safe; i++) {
    const c = name.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 44 || c === 59 || c === 34 || c === 92) safe = false;
  }
  if (safe) return name;
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    pieces.push(c <= 32 || c >= 127 || c === 44 || c === 59 || c === 34 || c === 92 ? "_" : name.charAt(i));
  }
  return pieces.join("");
}

export interface GatewayHeaders {
  "x-gw-backend": string;
  "x-gw-attempts": string;
}

/**
 * x-gw-backend: the instance that produced the response; x-gw-attempts: how many backends were called for this
 * request (skips of cooling backends not counted), so "2" means one failover happened.
 */
export function gatewayHeaders(this: void, backend: string, attempts: number): GatewayHeaders {
  return { "x-gw-backend": headerSafe(backend), "x-gw-attempts": `${attempts}` };
}

/** headerSafe per backend name, remembered: a route has a handful of backends and this runs on every answer. */
const safeNames: { [name: string]: string | undefined } = {};
let safeNameCount = 0;

export function headerSafeCached(this: void, name: string): string {
  let safe = safeNames[name];
  if (safe === undefined) {
    safe = headerSafe(name);
    if (safeNameCount < 1024) {
      safeNames[name] = safe;
      safeNameCount++;
    }
  }
  return safe;
}
