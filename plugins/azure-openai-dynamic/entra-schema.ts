/**
 * The `entra` object of a backend that authenticates with the gateway's managed identity instead of an api-key:
 * `provider_conf.entra` of an ai-proxy-multi instance (3.18's instance schema leaves provider_conf open and
 * requires `auth`, which such an instance leaves empty: `auth: {}`), and `auth.entra` of a spillway-failover
 * body-less backend. One object for both, validated by the renderer (ajv) and by identity.ts (core.schema) before
 * first use.
 */

/** A user-assigned identity's client id (Azure shows it as a GUID). */
const GUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

export const entraSchema = {
  type: "object",
  properties: {
    client_id: {
      type: "string",
      pattern: GUID,
      description: "Client id of the user-assigned managed identity to get tokens for; absent: the system-assigned identity.",
    },
    timeout_ms: {
      type: "integer", minimum: 1, maximum: 60000,
      description: "Connect, send and read timeout of one token call (default 3000). Requests waiting for it fail over after about this long.",
    },
    failure_backoff_ms: {
      type: "integer", minimum: 1, maximum: 600000,
      description: "After a failed token call, no new call for this long (default 5000); backends that need the token are cooled until then.",
    },
  },
  additionalProperties: false,
};

export interface EntraConf {
  client_id?: string;
  timeout_ms?: number;
  failure_backoff_ms?: number;
}

export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_FAILURE_BACKOFF_MS = 5000;
