/**
 * Priority lanes: which lane a request is in, and whether a backend's last answer leaves it enough headroom for
 * low-priority traffic. Portable TS (Lua and JS alike), no ngx.
 *
 * The lane: `x-priority: high|low` (case-insensitive, spaces around allowed); without the header, `?priority=`
 * with the same values; neither: high. Anything else is refused (the caller answers 400), so that a typo does
 * not silently put a batch job in the interactive lane. The renderer's low-lane route vars follow the same rule.
 *
 * The reserve: a low request goes to a backend only while the backend's reported x-ratelimit-remaining-tokens and
 * -requests stay at or above the reserve (the larger of the absolute figure and the percentage of the reported
 * x-ratelimit-limit-*). A backend that reports no limit has no percentage reserve.
 */
import type { HeaderTable } from "./header-table";
import { firstHeader } from "./header-table";
import { parseDecimal, remaining, resetMsOf } from "./retry-signals";

export type Lane = "high" | "low";

export interface LowReserve {
  tokens?: number;
  tokens_percent?: number;
  requests?: number;
  requests_percent?: number;
}

/** Below the reserve: which figure, its reported value, and how long the backend said it would take to reset. */
export interface ReserveShortfall {
  below: "tokens" | "requests";
  value: number;
  reset_ms?: number;
}

/** Response header values of a low-lane refusal (x-gw-ratelimit-reason), per figure. */
export const SHORTFALL_REASON: { [below: string]: string } = {
  tokens: "tokens-below-low-priority-threshold",
  requests: "requests-below-low-priority-threshold",
};

function trimLower(this: void, text: string): string {
  return text.toLowerCase().trim();
}

function laneValue(this: void, text: string): Lane | undefined {
  const value = trimLower(text);
  if (value === "high" || value === "low") return value;
  return undefined;
}

/**
 * The request's lane from the header (wins when present) or the query argument; `invalid` names the one that holds
 * something else.
 */
export function laneOf(this: void, header: string | undefined, query: string | undefined): Lane | "invalid-header" | "invalid-query" {
  if (header !== undefined) return laneValue(header) ?? "invalid-header";
  if (query !== undefined) return laneValue(query) ?? "invalid-query";
  return "high";
}

function reserveFigure(this: void, absolute: number | undefined, percent: number | undefined, limit: number | undefined): number {
  let reserve = absolute ?? 0;
  if (percent !== undefined && limit !== undefined) {
    const share = Math.ceil((limit * percent) / 100);
    if (share > reserve) reserve = share;
  }
  return reserve;
}

function limitOf(this: void, headers: HeaderTable, which: "tokens" | "requests"): number | undefined {
  const text = firstHeader(headers, which === "tokens" ? "x-ratelimit-limit-tokens" : "x-ratelimit-limit-requests");
  return text === undefined ? undefined : parseDecimal(text);
}

/**
 * What one backend answer says about low-priority headroom: a shortfall, `false` when the figures it reports are at
 * or above the reserve, `undefined` when it reports no remaining-* figure at all (nothing learnt).
 */
export function reserveShortfall(this: void, reserve: LowReserve, headers: HeaderTable | undefined): ReserveShortfall | false | undefined {
  if (headers === undefined) return undefined;
  const tokens = remaining(headers, "tokens");
  const requests = remaining(headers, "requests");
  if (tokens === undefined && requests === undefined) return undefined;
  if (tokens !== undefined && (reserve.tokens !== undefined || reserve.tokens_percent !== undefined)) {
    const floor = reserveFigure(reserve.tokens, reserve.tokens_percent, limitOf(headers, "tokens"));
    if (tokens < floor) return { below: "tokens", value: tokens, reset_ms: resetMsOf(headers, "tokens") };
  }
  if (requests !== undefined && (reserve.requests !== undefined || reserve.requests_percent !== undefined)) {
    const floor = reserveFigure(reserve.requests, reserve.requests_percent, limitOf(headers, "requests"));
    if (requests < floor) return { below: "requests", value: requests, reset_ms: resetMsOf(headers, "requests") };
  }
  return false;
}

function isDigits(this: void, text: string): boolean {
  if (text.length === 0 || text.length > 15) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * x-gw-remaining-tokens / -requests: the backend's own reported figure, as a whole number (undefined when it
 * reported none), so that clients and dashboards read the same number the gateway decided with.
 */
export function remainingHeader(this: void, headers: HeaderTable | undefined, which: "tokens" | "requests"): string | undefined {
  const text = firstHeader(headers, which === "tokens" ? "x-ratelimit-remaining-tokens" : "x-ratelimit-remaining-requests");
  if (text === undefined) return undefined;
  // Azure sends whole numbers: pass them on as they are (this runs on every answer); anything else is normalized.
  if (isDigits(text)) return text;
  const value = parseDecimal(text);
  return value === undefined ? undefined : `${Math.floor(value)}`;
}
