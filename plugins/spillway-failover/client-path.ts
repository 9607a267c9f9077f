/** The client's request target as sent, shared by the provider and the body-less proxy. */
const find = string.find;
const sub = string.sub;

/**
 * The raw path and query (before nginx decoding: what is forwarded is what the client sent); query "" if none.
 * When a plugin rewrote the upstream target (proxy-rewrite sets $upstream_uri, e.g. the E2E test routes strip a
 * prefix), that target wins: ai-proxy itself never reads $upstream_uri (apisix-ai-contract.md §1.6).
 */
export function clientPathAndQuery(this: void, ctx: ApisixCtx): LuaMultiReturn<[string, string]> {
  const rewritten = ctx.var["upstream_uri"];
  const raw = typeof rewritten === "string" && rewritten !== ""
    ? rewritten
    : (ctx.var["request_uri"] as string | undefined) ?? (ctx.var["uri"] as string);
  const [q] = find(raw, "?", 1, true);
  if (q === undefined) return $multi(raw, "");
  return $multi(sub(raw, 1, q - 1), sub(raw, q + 1));
}
