/**
 * azure-openai-auth: authenticates clients by the keys Azure OpenAI SDKs send (Authorization: Bearer,
 * api-key, ocp-apim-subscription-key), maps each key to a consumer, and strips the client's credentials so
 * they never reach a backend (APISIX 3.18 forwards every client header to the LLM; apisix-ai-contract.md §5.3).
 */
import * as core from "apisix.core";
import * as consumerMod from "apisix.consumer";
import { openAiError } from "../lib/openai-error";
import { findCredential, matchDigest } from "./credentials";
import { PLUGIN_NAME, PRIORITY, schema as confSchema, consumerSchema, CREDENTIAL_HEADERS } from "./schema";
import type { AuthConf } from "./schema";

const sha1Bin = ngx.sha1_bin;
const requestHeader = core.request.header;

export const version = 0.1;
export const priority = PRIORITY;
export const name = PLUGIN_NAME;
export const type = "auth";
export const schema = confSchema;
export const consumer_schema = consumerSchema;

export function check_schema(this: void, conf: unknown, schemaType?: number): LuaMultiReturn<[true] | [false, string]> {
  if (schemaType === core.schema.TYPE_CONSUMER) {
    return core.schema.check(consumerSchema, conf);
  }
  return core.schema.check(confSchema, conf);
}

interface DigestEntry {
  digest: string;
  value: ApisixConsumer;
}

/** Digests are fixed-length, so comparing them takes the same time whatever key a client sends. */
function buildDigests(this: void, consumerConf: ApisixConsumerConf): DigestEntry[] {
  const entries: DigestEntry[] = [];
  const byKey = consumerMod.consumers_kv(PLUGIN_NAME, consumerConf, "key");
  for (const [key, consumer] of pairs(byKey)) {
    entries.push({ digest: sha1Bin(key), value: consumer });
  }
  return entries;
}

const digestCache = core.lrucache.new({ type: "plugin" });

function unauthorized(this: void, conf: AuthConf, message: string, code: string): LuaMultiReturn<[number, object]> {
  // core.response.exit does not label a table body, so without this the JSON error goes out as text/plain.
  core.response.set_header("WWW-Authenticate", `Bearer realm="${conf.realm}"`, "Content-Type", "application/json");
  return $multi(401, openAiError(message, "invalid_request_error", code));
}

function stripCredentials(this: void, ctx: ApisixCtx): void {
  for (const header of CREDENTIAL_HEADERS) {
    if (requestHeader(ctx, header) !== undefined) {
      core.request.set_header(ctx, header, undefined);
    }
  }
}

// The return type must be a LuaMultiReturn union, not `LuaMultiReturn<...> | undefined`: with the latter TSTL wraps
// `return unauthorized(...)` in a table, so APISIX would get one table instead of (401, body).
export function rewrite(this: void, conf: AuthConf, ctx: ApisixCtx): LuaMultiReturn<[number, object] | []> {
  const [credential, source] = findCredential(ctx, requestHeader);
  if (conf.hide_credentials) {
    stripCredentials(ctx);
  }
  if (credential === undefined) {
    return unauthorized(
      conf,
      "Missing API key. Send it as 'Authorization: Bearer <key>', 'api-key' or 'ocp-apim-subscription-key'.",
      "missing_api_key",
    );
  }

  const consumerConf = consumerMod.plugin(PLUGIN_NAME);
  if (consumerConf === undefined) {
    core.log.error("azure-openai-auth: no consumer carries azure-openai-auth; every request is refused");
    return unauthorized(conf, "Invalid API key.", "invalid_api_key");
  }
  const [digests, err] = digestCache(PLUGIN_NAME, consumerConf.conf_version, buildDigests, consumerConf);
  if (digests === undefined) {
    core.log.error("azure-openai-auth: failed to index consumer keys: ", err);
    return unauthorized(conf, "Invalid API key.", "invalid_api_key");
  }
  const consumer = matchDigest(digests, sha1Bin(credential));
  if (consumer === undefined) {
    // Never log the key itself, only where it came from.
    core.log.warn("azure-openai-auth: unknown key presented in header ", source);
    return unauthorized(conf, "Invalid API key.", "invalid_api_key");
  }
  consumerMod.attach_consumer(ctx, consumer, consumerConf);
  setBudget(ctx, consumer);
  return $multi();
}

/**
 * The client's budget per lane, as request variables for ai-rate-limiting rules whose count names them
 * (`count: "$spillway_budget_high"`): 3.18's limit-count resolves a string count through ctx.var.
 */
function setBudget(this: void, ctx: ApisixCtx, consumer: ApisixConsumer): void {
  const budget = consumer.auth_conf.get("budget") as { high?: number; low?: number } | undefined;
  if (budget === undefined) return;
  const vars = ctx.var as unknown as LuaTable<string, unknown>;
  if (budget.high !== undefined) vars.set("spillway_budget_high", budget.high);
  if (budget.low !== undefined) vars.set("spillway_budget_low", budget.low);
}
