/**
 * azure-openai-auth: configuration schemas. This file is the one source of truth: the Lua plugin validates
 * with these objects (core.schema.check) and the renderer checks what it writes against them (ajv).
 * Plain data only: it is compiled to Lua and also imported by Node.
 */
export const PLUGIN_NAME = "azure-openai-auth";

/** Same slot as key-auth: auth plugins run in rewrite, before everything that needs a consumer. */
export const PRIORITY = 2500;

/**
 * Where a client key may arrive, in the order they are tried; the first header present wins.
 * `authorization` only counts when its scheme is Bearer.
 */
export const CREDENTIAL_HEADERS = ["authorization", "api-key", "ocp-apim-subscription-key"];

export const schema = {
  type: "object",
  properties: {
    hide_credentials: {
      type: "boolean",
      default: true,
      description: "Remove the client's credential headers before the request is forwarded to a backend.",
    },
    realm: {
      type: "string",
      default: "spillway",
      minLength: 1,
      pattern: '^[^"\\\\]+$',
      description: "Realm named in the WWW-Authenticate header of a 401.",
    },
  },
  additionalProperties: false,
};

export const consumerSchema = {
  type: "object",
  properties: {
    key: {
      type: "string",
      minLength: 16,
      description: "The client key this consumer presents (Bearer token, api-key or ocp-apim-subscription-key).",
    },
    budget: {
      type: "object",
      properties: {
        high: { type: "integer", minimum: 1 },
        low: { type: "integer", minimum: 1 },
      },
      additionalProperties: false,
      description:
        "This client's tokens (or requests) per window, per lane. Set as the request variables $spillway_budget_high " +
        "and $spillway_budget_low once the client is known, for ai-rate-limiting rules whose count names them.",
    },
  },
  encrypt_fields: ["key"],
  required: ["key"],
  additionalProperties: false,
};

export interface AuthConf {
  hide_credentials: boolean;
  realm: string;
}
