/**
 * Control endpoints under /++/ (need the instance's api key; not counted in stats or the request log):
 *   GET|PATCH /++/config   aoai-api-simulator compatible; PATCH merges latency and empties the rate-limit windows
 *   GET /++/stats          per-instance counters
 *   GET /++/requests[?limit=N], DELETE /++/requests   requests received (credentials redacted)
 *   GET|POST|DELETE /++/faults   list / replace / clear the fault list
 *   POST /++/reset         stats, request log, windows and stored responses back to empty
 */
import { configView, patchConfig } from "../config.ts";
import * as errors from "../errors.ts";
import type { Exchange } from "../exchange.ts";
import { validateFaults } from "../faults.ts";
import type { Instance } from "../instance.ts";
import type { FaultSpec } from "../types.ts";
import { parseJsonObject } from "./pipeline.ts";

function invalid(ex: Exchange, problems: string[]): void {
  ex.json(400, { error: { code: "invalid_config", message: problems.join("; "), param: null, type: "invalid_request_error" } });
}

function parseAny(ex: Exchange, text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    ex.error(errors.badJson((err as Error).message));
    return { ok: false };
  }
}

function setFaults(inst: Instance, ex: Exchange, text: string): void {
  const parsed = parseAny(ex, text);
  if (!parsed.ok) return;
  const v = parsed.value;
  // Accept one fault, an array, or {"faults": [...]}.
  const list = Array.isArray(v) ? v : v && typeof v === "object" && "faults" in v ? (v as { faults: unknown }).faults : [v];
  const problems = validateFaults(list);
  if (problems.length > 0) return invalid(ex, problems.map((p) => `faults${p}`));
  inst.faults.set(list as FaultSpec[]);
  ex.json(200, { faults: inst.faults.list() });
}

export function handleAdmin(inst: Instance, ex: Exchange, method: string, path: string, query: URLSearchParams, text: string): void {
  const key = `${method} ${path.replace(/\/$/, "")}`;
  switch (key) {
    case "GET /++/config":
      return ex.json(200, configView(inst.conf));
    case "PATCH /++/config": {
      const body = parseJsonObject(ex, text);
      if (!body) return;
      const problems = patchConfig(inst.conf, body);
      if (problems.length > 0) return invalid(ex, problems);
      inst.resetLimiters();
      return ex.json(200, configView(inst.conf));
    }
    case "GET /++/stats":
      return ex.json(200, inst.stats.snapshot());
    case "GET /++/requests": {
      const limit = Number(query.get("limit") ?? NaN);
      return ex.json(200, { requests: inst.log.list(Number.isInteger(limit) && limit > 0 ? limit : undefined) });
    }
    case "DELETE /++/requests":
      inst.log.clear();
      return ex.json(200, { requests: [] });
    case "GET /++/faults":
      return ex.json(200, { faults: inst.faults.list() });
    case "POST /++/faults":
      return setFaults(inst, ex, text);
    case "DELETE /++/faults":
      inst.faults.clear();
      return ex.json(200, { faults: [] });
    case "POST /++/reset":
      inst.reset();
      return ex.json(200, { reset: true });
    default:
      return ex.error(errors.resourceNotFound());
  }
}
