/**
 * Pure credential logic for azure-openai-auth: which header carries the client key, and a comparison whose
 * time does not depend on where two digests differ. No ngx, no APISIX: unit-tested as Lua under LuaJIT.
 */

const byte = string.byte;
const find = string.find;

/** Tried after Authorization, in this order. */
const KEY_HEADERS = ["api-key", "ocp-apim-subscription-key"];

/** Reads one request header by lower-case name (core.request.header in the plugin; a table in tests). */
export type HeaderReader<C> = (this: void, source: C, name: string) => string | undefined;

/** Strips the Bearer scheme (case-insensitive, RFC 6750) and surrounding blanks; undefined if not Bearer. */
export function bearerToken(this: void, authorization: string): string | undefined {
  const [, , token] = find(authorization, "^%s*[Bb][Ee][Aa][Rr][Ee][Rr]%s+(.-)%s*$");
  if (token === undefined || token === "") {
    return undefined;
  }
  return token as string;
}

/**
 * The client key and the header it came from. Order: `Authorization: Bearer`, `api-key`,
 * `ocp-apim-subscription-key`; the first one present and non-empty wins.
 */
export function findCredential<C>(
  this: void,
  source: C,
  read: HeaderReader<C>,
): LuaMultiReturn<[string, string] | [undefined, undefined]> {
  const authorization = read(source, "authorization");
  if (authorization !== undefined) {
    const token = bearerToken(authorization);
    if (token !== undefined) {
      return $multi(token, "authorization");
    }
  }
  for (const name of KEY_HEADERS) {
    const value = read(source, name);
    if (value !== undefined) {
      const [, , trimmed] = find(value, "^%s*(.-)%s*$");
      if (trimmed !== undefined && trimmed !== "") {
        return $multi(trimmed as string, name);
      }
    }
  }
  return $multi(undefined, undefined);
}

/** True when a and b are equal; for equal lengths the time taken does not depend on their content. */
export function constantTimeEqual(this: void, a: string, b: string): boolean {
  if (a.length !== b.length) {
    return false;
  }
  let diff = 0;
  for (let i = 1; i <= a.length; i++) {
    diff = diff | ((byte(a, i) as number) ^ (byte(b, i) as number));
  }
  return diff === 0;
}

/**
 * Finds the entry whose digest equals `digest`, comparing against every entry (no early exit), so the time
 * taken says nothing about which key, or how much of it, matched.
 */
export function matchDigest<T>(this: void, entries: { digest: string; value: T }[], digest: string): T | undefined {
  let found: T | undefined = undefined;
  for (const entry of entries) {
    if (constantTimeEqual(entry.digest, digest) && found === undefined) {
      found = entry.value;
    }
  }
  return found;
}
