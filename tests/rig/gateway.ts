/**
 * TEST CODE. What every gateway rig returns (the nginx stand-in in nginx.ts, real APISIX in apisix.ts), plus the
 * log helpers the suites share: error-log assertions (house style §21) and the access-log format that exposes the
 * llm_* variables (apisix-ai-contract.md §1.5).
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { SPILLWAY_LOG_VARIABLES } from "../../renderer/config-yaml.ts";

export interface GatewayOptions {
  /** Path to an apisix.yaml as the renderer writes it, ending with #END. */
  apisixYaml: string;
  /** Extra Lua search roots (a directory, or a pattern containing `?`), searched before build/lua and tests/host. */
  luaPaths?: string[];
  /** Extra lua_shared_dict zones: name → size ("10m"). */
  sharedDicts?: Record<string, string>;
  /** nginx worker_processes (default 1). */
  workers?: number;
  /** Environment for the gateway process: `${{VAR}}` in the YAML and `$env://VAR` in plugin confs read it. */
  env?: Record<string, string>;
  /**
   * Optional config.yaml (as the renderer writes it). The stand-in honours plugins, plugin_attr, apisix.router.http,
   * apisix.lua_module_hook, apisix.extra_lua_path and nginx_config.http.custom_lua_shared_dict (docs/testing.md).
   */
  configYaml?: string;
  /** A module require()d once in init_by_lua before anything else (overrides config.yaml apisix.lua_module_hook). */
  luaModuleHook?: string;
}

export interface Gateway {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  /** Stops the gateway; its temp directory is removed unless a test failed (see keepLogs). */
  stop(): Promise<void>;
  /** The whole error log so far. */
  errorLog(): string;
  /** Re-reads the apisixYaml file (and configYaml) and waits until the new config serves requests. */
  reload(): Promise<void>;
  /** The access log so far, one JSON object per line (ACCESS_LOG_FIELDS). */
  accessLog(): string;
  /** Where the logs are, for failure reports. */
  errorLogPath: string;
  /** Keep the temp directory (logs) after stop(); set when a test failed. */
  keepLogs(): void;
}

/** Fields of the access log line: nginx variables APISIX declares, incl. the AI ones. */
export const ACCESS_LOG_FIELDS = [
  "status",
  "request_method",
  "uri",
  "upstream_addr",
  "upstream_status",
  "request_type",
  "request_llm_model",
  "llm_model",
  "llm_prompt_tokens",
  "llm_completion_tokens",
  "llm_total_tokens",
  "llm_time_to_first_token",
  "llm_stream",
  "llm_tool_count",
  "llm_has_tool_calls",
  "llm_end_user_id",
  "llm_cache_read_input_tokens",
  "llm_reasoning_tokens",
  "apisix_upstream_response_time",
  /** The nginx worker that served the request: multi-worker suites check that state is shared across workers. */
  "pid",
  // Spillway's own fields (renderer/config-yaml.ts SPILLWAY_LOG_VARIABLES), declared by both rigs.
  ...SPILLWAY_LOG_VARIABLES,
] as const;

/** The log_format body (use with `escape=json`). */
export const ACCESS_LOG_FORMAT = `{${ACCESS_LOG_FIELDS.map((f) => `"${f}":"$${f}"`).join(",")}}`;

export type AccessLogEntry = Record<(typeof ACCESS_LOG_FIELDS)[number], string>;

/** Parses accessLog() output; lines that are not our JSON format (e.g. other writers) are skipped. */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const line of text.split("\n")) {
    const start = line.indexOf('{"status"');
    if (start < 0) continue;
    try {
      out.push(JSON.parse(line.slice(start)) as AccessLogEntry);
    } catch {
      // a partial last line while nginx is still writing
    }
  }
  return out;
}

const SEVERE = /\[(error|crit|alert|emerg)\]/;

/** error.log lines at error level or worse, minus the allowed ones. */
export function severeLines(log: string, allow: RegExp[] = []): string[] {
  return log
    .split("\n")
    .filter((line) => SEVERE.test(line))
    .filter((line) => !allow.some((re) => re.test(line)));
}

/** House style §21: every rig test asserts error.log has no [error]/[crit] lines (except the ones it expects). */
export function expectNoErrorLines(gateway: Pick<Gateway, "errorLog">, allow: RegExp[] = []): void {
  const lines = severeLines(gateway.errorLog(), allow);
  expect(lines, "unexpected [error]/[crit] lines in the gateway error log").toEqual([]);
}

/** The last n lines of a file, for failure reports. */
export function tailFile(path: string, n = 40): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-n).join("\n");
  } catch (err) {
    return `(cannot read ${path}: ${(err as Error).message})`;
  }
}

/**
 * Call from beforeEach: when the test fails, prints where the gateway logs are plus their tail, and keeps them.
 *   beforeEach((ctx) => reportLogsOnFailure(ctx, () => gateway));
 */
export function reportLogsOnFailure(
  ctx: { onTestFailed: (fn: () => void) => void },
  getGateway: () => Gateway | undefined,
): void {
  ctx.onTestFailed(() => {
    const gw = getGateway();
    if (!gw) return;
    gw.keepLogs();
    process.stderr.write(`\n--- gateway error log: ${gw.errorLogPath} (tail) ---\n${tailFile(gw.errorLogPath)}\n---\n`);
  });
}
