/** The client's request target as sent, shared by the provider and the body-less proxy. */
const find = string.find;
const sub = string.sub;

/**
 * The raw path and query (before nginx decoding: what is forwarded is what the client sent); query "" if none.
 * When a plugin rewrote the upstream target (proxy-rewrite sets $upstream_uri, e.g. the E2E test routes strip a
 * prefix), that target wins: ai-proxy itself never reads $upstream_uri (apisix-ai-contract.md §1.6).
 *
 * Read once per request and kept on ctx: after each attempt real APISIX 3.18 sets $upstream_uri to the path it
 * just sent (ai-proxy/base.lua, without the query), so a second read would take that for a rewrite and the next
 * backend would lose `?api-version=` (and answer 404).
 */
export function clientPathAndQuery(this: void, ctx: ApisixCtx): LuaMultiReturn<[string, string]> {
  const seenPath = ctx.spillway_client_path;
  if (seenPath !== undefined) return $multi(seenPath, ctx.spillway_client_query ?? "");
  // ngx.var, not ctx.var: an unset upstream_uri is never cached by APISIX's ctx.var, whose miss path costs a
  // string of prefix checks before it asks nginx anyway; a plugin that sets it through ctx.var sets nginx's too.
  const rewritten = ngx.var["upstream_uri"];
  // APISIX 3.18 replaces request_uri with the decoded uri (init.lua http_access_phase) and keeps the client's
  // bytes in real_request_uri.
  const raw = typeof rewritten === "string" && rewritten !== ""
    ? rewritten
    : (ctx.var["real_request_uri"] as string | undefined) ?? (ctx.var["request_uri"] as string | undefined) ?? (ctx.var["uri"] as string);
  const [q] = find(raw, "?", 1, true);
  let path = raw;
  let query = "";
  if (q !== undefined) {
    path = sub(raw, 1, q - 1);
    query = sub(raw, q + 1);
  }
  ctx.spillway_client_path = path;
  ctx.spillway_client_query = query;
  return $multi(path, query);
}
