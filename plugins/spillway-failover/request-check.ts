/**
 * The client's body, checked in the companion plugin's rewrite phase, which runs before every access phase and so
 * before ai-proxy-multi's request detection (ai-proxy/base.lua detect_request_type). 3.18 answers a wrong
 * Content-Type, a body over max_req_body_size and malformed JSON itself, in text/plain ({"message":...} or plain
 * text), logs the oversized body at [error] (a client can fill the error log), and fails with a Lua error (nginx's
 * HTML 500) on JSON that is not an object. Here each is an OpenAI-shaped JSON error, without a log line: it is the
 * client's doing.
 *
 * No cost on the happy path: the body is read and decoded by the very call ai-proxy-multi makes
 * (core.request.get_json_request_body_table, same size limit: Content-Length is compared before anything is read),
 * which keeps the decoded table on ctx; ai-proxy-multi's own call then returns it without decoding again.
 */
import * as core from "apisix.core";
import { openAiError } from "../lib/openai-error";
import type { OpenAiErrorBody } from "../lib/openai-error";

const hasPrefix = core.string.has_prefix;
const find = string.find;

/** ai-proxy-multi's schema default for max_req_body_size (3.18.0 ai-proxy/schema.lua), when the conf has none. */
const DEFAULT_MAX_BODY = 67108864;
/** The part of APISIX's size error (core/request.lua check_size) that ai-proxy/base.lua also looks for. */
const TOO_LARGE = "greater than the maximum size";
const NOT_AN_OBJECT = "The request body must be a JSON object with the request's parameters.";

function refuse(this: void, status: number, message: string): LuaMultiReturn<[number, OpenAiErrorBody]> {
  // core.response.exit encodes a table body as JSON but leaves nginx's default text/plain.
  core.response.set_header("Content-Type", "application/json");
  return $multi(status, openAiError(message, "invalid_request_error", `${status}`));
}

/** Nothing, or the refusal to answer with; `multiConf` is the route's ai-proxy-multi conf. */
export function checkRequestBody(
  this: void,
  ctx: ApisixCtx,
  multiConf: LuaTable<string, unknown>,
): LuaMultiReturn<[number, OpenAiErrorBody] | []> {
  // ai-proxy-multi's own rule: no Content-Type counts as JSON, anything else must start with application/json.
  // nginx's $content_type (the request's Content-Type, kept by nginx as it parsed the headers): core.request.header
  // reads every header into a table when nginx is not APISIX's own build.
  const contentType = ngx.var["content_type"] as string | undefined;
  if (contentType !== undefined && !hasPrefix(contentType, "application/json")) {
    return refuse(415, "Unsupported Content-Type: send the request body as JSON, with Content-Type: application/json.");
  }
  const limit = (multiConf.get("max_req_body_size") as number | undefined) ?? DEFAULT_MAX_BODY;
  const [body, err] = core.request.get_json_request_body_table(limit);
  if (body === undefined) {
    // APISIX's message is about the client's own bytes ("could not parse JSON request body: Expected value but
    // found T_END at character 39"): worth passing on, and it holds nothing secret.
    const message = err?.message ?? "could not read the request body";
    const [tooLarge] = find(message, TOO_LARGE, 1, true);
    if (tooLarge !== undefined) {
      return refuse(413, `The request body is too large: the limit is ${limit} bytes.`);
    }
    return refuse(400, message);
  }
  // What 3.18's protocol detection needs ("no matching AI protocol" for {}; a Lua error for a number or string).
  if (type(body) !== "table") return refuse(400, NOT_AN_OBJECT);
  const [firstKey] = next(body);
  if (firstKey === undefined) {
    return refuse(400, NOT_AN_OBJECT);
  }
  return $multi();
}
