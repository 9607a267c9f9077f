/**
 * spillway-failover: the companion plugin of the azure-openai-dynamic provider (runs right after ai-proxy-multi
 * picks an instance, and in header_filter). One source of truth: the Lua plugin validates with this object and
 * the renderer checks its output against it.
 */
import { entraSchema, type EntraConf } from "../azure-openai-dynamic/entra-schema";

export const PLUGIN_NAME = "spillway-failover";

/** Between ai-rate-limiting (1030) and ai-proxy-multi (1041): access runs after the pick, before before_proxy. */
export const PRIORITY = 1035;

/** The provider name registered in ai-providers/schema.lua's shared enum by our lua_module_hook. */
export const PROVIDER_NAME = "azure-openai-dynamic";

const redisSchema = {
  type: "object",
  properties: {
    host: { type: "string", minLength: 1, description: "Redis host shared by all replicas for cooldown state and Responses affinity." },
    port: { type: "integer", minimum: 1, maximum: 65535, default: 6379 },
    password: { type: "string", description: "Redis password (AUTH)." },
    database: { type: "integer", minimum: 0, default: 0 },
    timeout_ms: {
      type: "integer", minimum: 1, default: 200,
      description: "Per Redis step (connect, send, read); on a timeout or any other Redis failure the shared dict alone decides and the node leaves Redis alone for 10 s.",
    },
    ssl: { type: "boolean", default: false },
    prefix: { type: "string", default: "spillway", description: "Key prefix, so several gateways can share one Redis." },
  },
  required: ["host"],
  additionalProperties: false,
};

const backendSchema = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1 },
    endpoint: { type: "string", pattern: "^https?://[^/?#@]+/?$", description: "scheme://host[:port] only." },
    priority: { type: "integer", default: 0 },
    auth: {
      type: "object",
      properties: { header: { type: "object", additionalProperties: { type: "string" } }, entra: entraSchema },
      required: ["header"],
    },
  },
  required: ["name", "endpoint", "auth"],
  additionalProperties: false,
};

export const schema = {
  type: "object",
  properties: {
    default_429_cooldown_ms: {
      type: "integer", minimum: 0, default: 10000,
      description: "Cooldown after a 429 that carries none of retry-after-ms, retry-after, x-ratelimit-reset-*.",
    },
    max_cooldown_ms: {
      type: "integer", minimum: 0, default: 120000,
      description: "Cap on any cooldown, whatever the backend asked for.",
    },
    error_cooldown_ms: {
      type: "integer", minimum: 0, default: 5000,
      description:
        "Cooldown after repeated 5xx, timeouts or connection errors (see error_threshold). The count survives the cooldown, so the first failure after it cools the backend again; a success clears it.",
    },
    error_threshold: {
      type: "integer", minimum: 1, default: 2,
      description: "Consecutive 5xx/timeout/connection failures of a backend before it is cooled for error_cooldown_ms (a 5xx carrying Retry-After is cooled for that at once).",
    },
    remaining_tokens_floor: {
      type: "integer", minimum: 0, default: 0,
      description: "A success whose x-ratelimit-remaining-tokens is below this cools the backend until its reported reset (0 disables; a success with x-ratelimit-remaining-requests 0 always does).",
    },
    low_reserve: {
      type: "object",
      properties: {
        tokens: { type: "integer", minimum: 0, description: "Remaining tokens a backend keeps for high-priority traffic." },
        tokens_percent: { type: "number", minimum: 0, maximum: 100, description: "The same, as a share of the backend's reported x-ratelimit-limit-tokens." },
        requests: { type: "integer", minimum: 0, description: "Remaining requests a backend keeps for high-priority traffic." },
        requests_percent: { type: "number", minimum: 0, maximum: 100, description: "The same, as a share of the backend's reported x-ratelimit-limit-requests." },
      },
      additionalProperties: false,
      description:
        "Low-priority requests (x-priority: low, or ?priority=low) go to a backend only while its last reported " +
        "x-ratelimit-remaining-tokens/-requests stay at or above this reserve (the larger of the absolute and the " +
        "percentage figure); below it the backend is left to high-priority traffic until its reported reset. " +
        "High-priority traffic is never refused for it. Absent: no reserve.",
    },
    connect_timeout_ms: { type: "integer", minimum: 1, default: 3000 },
    send_timeout_ms: { type: "integer", minimum: 1, default: 10000 },
    first_byte_timeout_ms: {
      type: "integer", minimum: 1, default: 60000,
      description: "Time allowed between sending the request and the first byte of the response headers.",
    },
    max_wait_ms: {
      type: "integer", minimum: 0, default: 0,
      description: "If every backend is throttled (429 or cooling from one) and the earliest recovers within this, wait and retry instead of answering 429. Waits in one request add up against it.",
    },
    affinity_ttl_s: {
      type: "integer", minimum: 0, default: 86400,
      description:
        "How long the gateway remembers which backend holds a Responses API response, so that previous_response_id " +
        "and GET/DELETE /responses/{id} reach it; 0 turns affinity off.",
    },
    redis: redisSchema,
    helper: {
      type: "string",
      enum: ["set-preferred-backends"],
      description:
        "Makes the route the toolkit's helper endpoint instead of a proxy: POST {\"preferredBackends\": [names, fastest first]} " +
        "sets the order every API route tries its backends in (GET reads it); see docs/configuration.md.",
    },
    backends: {
      type: "array",
      minItems: 1,
      items: backendSchema,
      description:
        "Only on routes without ai-proxy-multi, for body-less calls it cannot take (GET /openai/v1/models, " +
        "GET/DELETE /openai/v1/responses/{id}, POST …/cancel): the backends this plugin calls itself, highest " +
        "priority first, skipping cooling ones; a 404 for a response id moves on to the next backend.",
    },
  },
  additionalProperties: false,
};

export interface BodylessBackend {
  name: string;
  endpoint: string;
  priority: number;
  auth: { header: { [name: string]: string }; entra?: EntraConf };
}

export interface FailoverConf {
  default_429_cooldown_ms: number;
  max_cooldown_ms: number;
  error_cooldown_ms: number;
  error_threshold: number;
  remaining_tokens_floor: number;
  low_reserve?: { tokens?: number; tokens_percent?: number; requests?: number; requests_percent?: number };
  connect_timeout_ms: number;
  send_timeout_ms: number;
  first_byte_timeout_ms: number;
  max_wait_ms: number;
  affinity_ttl_s: number;
  helper?: "set-preferred-backends";
  backends?: BodylessBackend[];
  redis?: {
    host: string;
    port: number;
    password?: string;
    database: number;
    timeout_ms: number;
    ssl: boolean;
    prefix: string;
  };
}

/**
 * provider_conf of an ai-proxy-multi instance whose provider is azure-openai-dynamic. APISIX's instance schema
 * leaves provider_conf open (apisix-ai-contract.md §1.2), so the provider validates it itself.
 */
export const providerConfSchema = {
  type: "object",
  properties: {
    deployments: {
      type: "object",
      additionalProperties: { type: "string", minLength: 1 },
      description: "Client deployment/model name → this backend's deployment name (optional alias map).",
    },
    entra: entraSchema,
  },
};
