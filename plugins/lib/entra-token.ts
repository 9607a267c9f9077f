/**
 * Entra ID tokens from a managed identity, the pure part (the ngx part is azure-openai-dynamic/identity.ts): where
 * to ask (Container Apps' identity endpoint or IMDS), what the answer means (expires_on / expires_in as strings or
 * numbers), when a cached token must be refreshed or may no longer be sent, and the shared-dict encodings.
 *
 *   fresh     now < refresh_at                      use it
 *   refresh   refresh_at <= now < usable_until      use it; one request per node asks for a new one
 *   expired   usable_until <= now (or no token)     wait for a new one (single flight), or fail over
 *
 * refresh_at is max(10 % of the lifetime, 5 min) before expiry, but never earlier than half the lifetime (a 24 h
 * token refreshes 2.4 h early, a 1 h one 6 min early, a test's 4 s one 2 s early). usable_until keeps min(30 s,
 * 5 %) in hand for clock skew and the time the request takes to reach Azure.
 *
 * Portable TS (Lua and JS alike): no Date, no Number(), no Lua string library.
 */
import { parseDecimal } from "./retry-signals";

/** The token audience: Azure OpenAI / AI Foundry accept https://cognitiveservices.azure.com/.default. */
export const TOKEN_RESOURCE = "https://cognitiveservices.azure.com";
const RESOURCE_QUERY = "https%3A%2F%2Fcognitiveservices.azure.com";
export const CONTAINER_APPS_API_VERSION = "2019-08-01";
export const IMDS_API_VERSION = "2018-02-01";
export const IMDS_BASE = "http://169.254.169.254";
const IMDS_PATH = "/metadata/identity/oauth2/token";

/** Refresh at least this long before expiry (but see the half-lifetime rule above). */
const REFRESH_AHEAD_MS = 300000;
/** Stop sending a token this long before its expiry at the latest (skew between our clock and Entra's). */
const EXPIRY_SKEW_MS = 30000;
/** A longer claimed lifetime is treated as this: a garbled expires_on must not pin a token for years. */
const MAX_LIFETIME_MS = 172800000;
/** Managed identity tokens are ~2 KB JWTs; anything far larger is not a token we should put in a header. */
const MAX_TOKEN_BYTES = 16384;
/** Error details quoted from an identity endpoint's answer, at most. */
const MAX_DETAIL_BYTES = 200;

const SPACE = 32;
const TILDE = 126;

export type IdentitySource =
  | { kind: "container-apps"; endpoint: string; header: string }
  | { kind: "imds"; base: string };

export interface TokenRequest {
  url: string;
  header_name: string;
  header_value: string;
}

export interface TokenEntry {
  token: string;
  expires_at_ms: number;
  refresh_at_ms: number;
  usable_until_ms: number;
}

export type ParsedToken = { ok: true; entry: TokenEntry } | { ok: false; reason: string };

export type TokenState = "fresh" | "refresh" | "expired";

export interface Failure {
  retry_at_ms: number;
  reason: string;
}

function present(this: void, value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

/**
 * Container Apps (and App Service) inject IDENTITY_ENDPOINT + IDENTITY_HEADER; without both, the platform's IMDS.
 * `imdsBase` replaces http://169.254.169.254 (tests only: SPILLWAY_TEST_IMDS_ENDPOINT).
 */
export function identitySource(this: void, endpoint: string | undefined, header: string | undefined, imdsBase: string | undefined): IdentitySource {
  if (present(endpoint) && present(header)) return { kind: "container-apps", endpoint, header };
  let base = present(imdsBase) ? imdsBase : IMDS_BASE;
  while (base.length > 0 && base.charCodeAt(base.length - 1) === 47) base = base.substring(0, base.length - 1);
  return { kind: "imds", base };
}

/** For logs: where tokens come from. Never the IDENTITY_HEADER. */
export function describeSource(this: void, source: IdentitySource): string {
  return source.kind === "container-apps" ? `the Container Apps identity endpoint (${source.endpoint})` : `IMDS (${source.base})`;
}

/** The GET that returns a token for TOKEN_RESOURCE; `clientId` picks a user-assigned identity (a GUID). */
export function tokenRequest(this: void, source: IdentitySource, clientId: string | undefined): TokenRequest {
  const client = present(clientId) ? `&client_id=${clientId}` : "";
  if (source.kind === "container-apps") {
    const sep = source.endpoint.indexOf("?") >= 0 ? "&" : "?";
    return {
      url: `${source.endpoint}${sep}resource=${RESOURCE_QUERY}&api-version=${CONTAINER_APPS_API_VERSION}${client}`,
      header_name: "X-IDENTITY-HEADER",
      header_value: source.header,
    };
  }
  return {
    url: `${source.base}${IMDS_PATH}?api-version=${IMDS_API_VERSION}&resource=${RESOURCE_QUERY}${client}`,
    header_name: "Metadata",
    header_value: "true",
  };
}

/** Seconds as JSON gives them: a number, or a string of digits ("3599", "1768000000"). */
function seconds(this: void, value: unknown): number | undefined {
  if (typeof value === "number") return value >= 0 && value < 1e12 ? value : undefined;
  if (typeof value === "string") return parseDecimal(value);
  return undefined;
}

/** Visible ASCII only: the token goes into a header as is. */
function headerSafe(this: void, token: string): boolean {
  if (token.length === 0 || token.length > MAX_TOKEN_BYTES) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c <= SPACE || c > TILDE) return false;
  }
  return true;
}

/** When to refresh a token that expires at `expiresAtMs`, obtained at `nowMs`, and until when to send it. */
export function schedule(this: void, token: string, nowMs: number, expiresAtMs: number): TokenEntry {
  let expires = expiresAtMs;
  if (expires - nowMs > MAX_LIFETIME_MS) expires = nowMs + MAX_LIFETIME_MS;
  const lifetime = expires - nowMs;
  let ahead = lifetime / 10 > REFRESH_AHEAD_MS ? lifetime / 10 : REFRESH_AHEAD_MS;
  if (ahead > lifetime / 2) ahead = lifetime / 2;
  const skew = lifetime / 20 < EXPIRY_SKEW_MS ? lifetime / 20 : EXPIRY_SKEW_MS;
  return {
    token,
    expires_at_ms: Math.floor(expires),
    refresh_at_ms: Math.floor(expires - ahead),
    usable_until_ms: Math.floor(expires - skew),
  };
}

/**
 * A decoded token answer → entry. expires_on (epoch seconds) wins over expires_in (seconds from now); either may
 * be a number or a string. Reasons name the field, never the token.
 */
export function parseTokenResponse(this: void, body: unknown, nowMs: number): ParsedToken {
  if (typeof body !== "object" || body === null) return { ok: false, reason: "the answer is not a JSON object" };
  const fields = body as { access_token?: unknown; token_type?: unknown; expires_on?: unknown; expires_in?: unknown };
  const token = fields.access_token;
  if (typeof token !== "string" || token === "") return { ok: false, reason: "the answer has no access_token" };
  if (!headerSafe(token)) return { ok: false, reason: "the access_token is not a plain header value" };
  const tokenType = fields.token_type;
  if (tokenType !== undefined && (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer")) {
    return { ok: false, reason: "the token_type is not Bearer" };
  }
  let expiresAt: number | undefined;
  const on = seconds(fields.expires_on);
  if (on !== undefined) {
    expiresAt = on * 1000;
  } else {
    const inS = seconds(fields.expires_in);
    if (inS !== undefined) expiresAt = nowMs + inS * 1000;
  }
  if (expiresAt === undefined) return { ok: false, reason: "the answer has no usable expires_on or expires_in" };
  if (expiresAt <= nowMs) return { ok: false, reason: "the token has already expired" };
  return { ok: true, entry: schedule(token, nowMs, expiresAt) };
}

export function tokenState(this: void, entry: TokenEntry | undefined, nowMs: number): TokenState {
  if (entry === undefined || nowMs >= entry.usable_until_ms) return "expired";
  if (nowMs >= entry.refresh_at_ms) return "refresh";
  return "fresh";
}

/** `error` and `error_description` of an identity endpoint's error answer, shortened, for the log line. */
export function errorDetail(this: void, body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const fields = body as { error?: unknown; error_description?: unknown };
  let text = "";
  if (typeof fields.error === "string") text = fields.error;
  if (typeof fields.error_description === "string") text = text === "" ? fields.error_description : `${text}: ${fields.error_description}`;
  if (text === "") return undefined;
  let out = "";
  for (let i = 0; i < text.length && i < MAX_DETAIL_BYTES; i++) {
    const c = text.charCodeAt(i);
    out += c < SPACE || c > TILDE ? "?" : text.substring(i, i + 1);
  }
  return out;
}

/** Shared-dict value of a token: "<refresh_at> <usable_until> <expires_at> <token>" (ms). */
export function encodeEntry(this: void, entry: TokenEntry): string {
  return `${entry.refresh_at_ms} ${entry.usable_until_ms} ${entry.expires_at_ms} ${entry.token}`;
}

export function decodeEntry(this: void, text: string): TokenEntry | undefined {
  const a = text.indexOf(" ");
  const b = a < 0 ? -1 : text.indexOf(" ", a + 1);
  const c = b < 0 ? -1 : text.indexOf(" ", b + 1);
  if (c < 0) return undefined;
  const refresh = parseDecimal(text.substring(0, a));
  const usable = parseDecimal(text.substring(a + 1, b));
  const expires = parseDecimal(text.substring(b + 1, c));
  const token = text.substring(c + 1);
  if (refresh === undefined || usable === undefined || expires === undefined || token === "") return undefined;
  return { token, refresh_at_ms: refresh, usable_until_ms: usable, expires_at_ms: expires };
}

/** Shared-dict value of a failed token call: "<retry_at> <reason>" (ms). */
export function encodeFailure(this: void, failure: Failure): string {
  return `${Math.floor(failure.retry_at_ms)} ${failure.reason}`;
}

export function decodeFailure(this: void, text: string): Failure | undefined {
  const space = text.indexOf(" ");
  const retryAt = space < 0 ? undefined : parseDecimal(text.substring(0, space));
  if (retryAt === undefined) return undefined;
  return { retry_at_ms: retryAt, reason: text.substring(space + 1) };
}
