/**
 * Spillway's fields of the access-log line, as nginx variables the renderer declares (`set $spillway_* ''` in the
 * location, renderer/config-yaml.ts) and names in access_log_format; set in the log phase, which runs before nginx
 * writes the line. Where they are not declared (a hand-written config.yaml) nothing is set: checked once per worker.
 */
import * as cjson from "cjson.safe";
import { attemptEntries, operationOf } from "../lib/access-fields";
import { pathDeploymentCached } from "../lib/upstream-route";
import type { RequestState } from "./state";

let declared: boolean | undefined = undefined;

function setVar(this: void, name: string, value: string): void {
  (ngx.var as unknown as LuaTable<string, string>).set(name, value);
}

export function writeLogFields(this: void, ctx: ApisixCtx, state: RequestState): void {
  if (declared === undefined) declared = pcall(setVar, "spillway_attempts", "")[0];
  if (!declared) return;
  const entries = attemptEntries(state.attempts);
  // cjson writes an empty table as {}.
  setVar("spillway_attempts", entries.length === 0 ? "[]" : (cjson.encode(entries)[0] as string));
  // Variables start empty: only what has a value is set (each set is a variable lookup in nginx).
  if (state.answered && state.backend !== undefined) setVar("spillway_backend", state.backend);
  setVar("spillway_lane", state.lane);
  if (ctx.consumer_name !== undefined) setVar("spillway_client", ctx.consumer_name);
  const uri = ctx.var["uri"] as string | undefined;
  setVar("spillway_operation", operationOf(ctx.var["request_method"] as string, uri ?? ""));
  const model = ctx.var["request_llm_model"];
  setVar("spillway_deployment", state.deployment ?? (uri !== undefined ? pathDeploymentCached(uri) : undefined) ?? (typeof model === "string" ? model : ""));
  setVar("spillway_total_ms", `${Math.floor((ngx.now() - ngx.req.start_time()) * 1000)}`);
  if (state.stream_cut !== undefined) setVar("spillway_stream_cut", state.stream_cut);
}
