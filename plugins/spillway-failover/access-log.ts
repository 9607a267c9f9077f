/**
 * Spillway's fields of the access-log line, as nginx variables the renderer declares (`set $spillway_* ''` in the
 * location, renderer/config-yaml.ts) and names in access_log_format; set in the log phase, which runs before nginx
 * writes the line. Where they are not declared (a hand-written config.yaml) nothing is set: checked once per worker.
 */
import { attemptsField, intText, operationOf } from "../lib/access-fields";
import { pathDeploymentCached } from "../lib/upstream-route";
import type { RequestState } from "./state";

let declared: boolean | undefined = undefined;

function setVar(this: void, name: string, value: string): void {
  (ngx.var as unknown as LuaTable<string, string>).set(name, value);
}

/** Operations by $uri (and method, for the two that depend on it), remembered: bounded, URIs come from clients. */
let operations = new LuaTable<string, string>();
let operationCount = 0;
const MAX_OPERATIONS = 1024;

function operationOfRequest(this: void, ctx: ApisixCtx, uri: string): string {
  const known = operations.get(uri);
  if (known !== undefined) return known;
  const operation = operationOf(ctx.var["request_method"] as string, uri);
  // responses.get and responses.delete share their URIs: those are not remembered.
  if (operation === "responses.get" || operation === "responses.delete") return operation;
  if (operationCount >= MAX_OPERATIONS) {
    operations = new LuaTable();
    operationCount = 0;
  }
  operations.set(uri, operation);
  operationCount++;
  return operation;
}

/** `elapsedS`: since the request came in. */
export function writeLogFields(this: void, ctx: ApisixCtx, state: RequestState, elapsedS: number): void {
  if (declared === undefined) declared = pcall(setVar, "spillway_attempts", "")[0];
  if (!declared) return;
  setVar("spillway_attempts", attemptsField(state.attempts));
  // Variables start empty: only what has a value is set (each set is a variable lookup in nginx).
  if (state.answered && state.backend !== undefined) setVar("spillway_backend", state.backend);
  setVar("spillway_lane", state.lane);
  if (ctx.consumer_name !== undefined) setVar("spillway_client", ctx.consumer_name);
  const uri = ctx.var["uri"] as string | undefined;
  setVar("spillway_operation", uri === undefined ? "other" : operationOfRequest(ctx, uri));
  const model = ctx.var["request_llm_model"];
  setVar("spillway_deployment", state.deployment ?? (uri !== undefined ? pathDeploymentCached(uri) : undefined) ?? (typeof model === "string" ? model : ""));
  setVar("spillway_total_ms", intText(Math.floor(elapsedS * 1000)));
  if (state.stream_cut !== undefined) setVar("spillway_stream_cut", state.stream_cut);
}
