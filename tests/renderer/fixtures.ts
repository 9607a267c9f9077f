/** Env records shared by the renderer suites. Keys here are fake and only ever used against loopback or not at all. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const MINIMAL_ENV: Record<string, string> = {
  AZURE_OPENAI_ENDPOINT_0: "https://contoso-eastus.openai.azure.com",
  AZURE_OPENAI_KEY_0: "eastus-key-00000000000000000000",
  GATEWAY_CLIENT_NAME_0: "team-a",
  GATEWAY_CLIENT_KEY_0: "team-a-key-0123456789abcdef",
};

export const FULL_ENV: Record<string, string> = {
  AZURE_OPENAI_ENDPOINT_0: "https://contoso-ptu.openai.azure.com/",
  AZURE_OPENAI_KEY_0: "ptu-key-aaaaaaaaaaaaaaaaaaaaaaaa",
  AZURE_OPENAI_NAME_0: "ptu-eastus",
  AZURE_OPENAI_PRIORITY_0: "10",
  AZURE_OPENAI_ENDPOINT_1: "https://contoso-westus.openai.azure.com",
  AZURE_OPENAI_KEY_1: "westus-key-bbbbbbbbbbbbbbbbbbbbbb",
  AZURE_OPENAI_NAME_1: "payg-westus",
  AZURE_OPENAI_WEIGHT_1: "3",
  AZURE_OPENAI_DEPLOYMENTS_1: "gpt-4o=gpt-4o-westus, text-embedding-3-small=emb-small",
  AZURE_OPENAI_ENDPOINT_2: "https://contoso-sweden.openai.azure.com:8443",
  AZURE_OPENAI_KEY_2: "sweden-key-cccccccccccccccccccccc",
  AZURE_OPENAI_NAME_2: "payg-sweden",
  AZURE_OPENAI_WEIGHT_2: "1",
  GATEWAY_CLIENT_NAME_0: "team-a",
  GATEWAY_CLIENT_KEY_0: "team-a-key-0123456789abcdef",
  GATEWAY_CLIENT_NAME_1: "batch_jobs",
  GATEWAY_CLIENT_KEY_1: "batch-key-fedcba9876543210",
  GATEWAY_CLIENT_TOKEN_LIMIT_1: "10000",
  GATEWAY_CLIENT_LOW_TOKEN_LIMIT_1: "200000",
  GATEWAY_LOG_MODE: "test",
  SPILLWAY_COOLDOWN_429_MS: "15000",
  SPILLWAY_COOLDOWN_MAX_MS: "60000",
  SPILLWAY_COOLDOWN_ERROR_THRESHOLD: "3",
  SPILLWAY_FIRST_BYTE_TIMEOUT_MS: "120000",
  SPILLWAY_MAX_WAIT_MS: "2000",
  SPILLWAY_REDIS_HOST: "spillway-redis.internal",
  SPILLWAY_REDIS_PORT: "6380",
  SPILLWAY_REDIS_PASSWORD: "redis-password-dddddddddddd",
  SPILLWAY_REDIS_SSL: "yes",
  SPILLWAY_READ_TIMEOUT_MS: "90000",
  SPILLWAY_MAX_RETRIES: "2",
  SPILLWAY_MAX_STREAM_DURATION_MS: "600000",
  APISIX_ACTIVE_HEALTH_CHECKS: "TRUE",
  ENABLE_AI_RATE_LIMIT: "1",
  AI_RATE_LIMIT_STRATEGY: "total_tokens",
  AI_RATE_LIMIT_HIGH_LIMIT: "100000",
  AI_RATE_LIMIT_LOW_LIMIT: "20000",
  AI_RATE_LIMIT_POLICY: "redis",
  LOW_PRIORITY_RESERVE_TOKENS: "30%",
  LOW_PRIORITY_RESERVE_REQUESTS: "20",
  OTEL_COLLECTOR_ENDPOINT: "localhost:4318",
  APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=eeeeeeee-0000-0000-0000-000000000000;IngestionEndpoint=https://x",
  AZURE_MONITOR_WORKSPACE_ENDPOINT: "https://spillway-amw.eastus-1.metrics.ingest.monitor.azure.com/dataCollectionRules/dcr-1/streams/Microsoft-PrometheusMetrics/api/v1/write",
  GATEWAY_E2E_TEST_MODE: "true",
  GATEWAY_E2E_ROUTE_PREFIXES: "retry-with-payg",
  SPILLWAY_AI_HTTP_CLIENT: "lua-resty-http",
};

/** Every secret value of FULL_ENV, for "never printed" assertions. */
export const FULL_SECRETS = Object.entries(FULL_ENV)
  .filter(([k]) => /KEY_\d+$|PASSWORD|CONNECTION_STRING/.test(k))
  .map(([, v]) => v);

export function tempDir(prefix = "spillway-renderer-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function envFileText(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `${k}="${v}"`).join("\n") + "\n";
}
