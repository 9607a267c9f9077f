/**
 * How long a backend asks us to stay away, read from its response headers.
 *
 * Precedence (the one the OpenAI SDKs use, then Azure's own reset headers):
 *   retry-after-ms  >  retry-after (delta-seconds or HTTP-date)  >  max(x-ratelimit-reset-requests|tokens)  >  default
 * The first header that parses wins; a header that does not parse (garbage, negative, empty) is skipped, never
 * turned into NaN. The result is whole milliseconds (rounded up, so we never come back early), capped by max.
 *
 * Portable TS (Lua and JS alike): no Date, no Lua string library, no Number(): every byte is checked by hand,
 * so that both hosts accept exactly the same inputs.
 */
import { firstHeader } from "./header-table";
import type { HeaderTable } from "./header-table";

export type RetrySource = "retry-after-ms" | "retry-after" | "x-ratelimit-reset";

export interface RetrySignal {
  ms: number;
  source: RetrySource;
}

export interface Cooldown {
  ms: number;
  source: RetrySource | "default";
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;
const SPACE = 32;
const HTAB = 9;
const COMMA = 44;
const DASH = 45;
const COLON = 58;
const LOWER_A = 97;
const LOWER_Z = 122;

/** More fraction digits than this are checked but not added: they are below a millisecond and could overflow. */
const MAX_FRACTION_DIGITS = 9;

const MS_PER_DAY = 86400000;

function isDigit(this: void, c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function isBlank(this: void, c: number): boolean {
  return c === SPACE || c === HTAB;
}

/**
 * A non-negative decimal: DIGIT+ [ "." DIGIT+ ], optionally surrounded by spaces/tabs. No sign, exponent,
 * hex or "Infinity". Returns undefined for anything else.
 */
export function parseDecimal(this: void, text: string): number | undefined {
  let start = 0;
  let stop = text.length;
  while (start < stop && isBlank(text.charCodeAt(start))) start++;
  while (stop > start && isBlank(text.charCodeAt(stop - 1))) stop--;
  return decimalAt(text, start, stop);
}

/** Parses text[start, stop) as DIGIT+ [ "." DIGIT+ ] exactly. */
function decimalAt(this: void, text: string, start: number, stop: number): number | undefined {
  let i = start;
  let whole = 0;
  while (i < stop && isDigit(text.charCodeAt(i))) {
    whole = whole * 10 + (text.charCodeAt(i) - DIGIT_0);
    i++;
  }
  if (i === start) return undefined;
  if (i === stop) return whole;
  if (text.charCodeAt(i) !== DOT) return undefined;
  i++;
  const fractionStart = i;
  let fraction = 0;
  let scale = 1;
  while (i < stop) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    if (i - fractionStart < MAX_FRACTION_DIGITS) {
      fraction = fraction * 10 + (c - DIGIT_0);
      scale = scale * 10;
    }
    i++;
  }
  if (i === fractionStart) return undefined;
  return whole + fraction / scale;
}

/** Milliseconds per duration unit, as OpenAI writes them ("6m0s", "59ms", "1h2m3.5s"). */
function unitMs(this: void, unit: string): number | undefined {
  if (unit === "ms") return 1;
  if (unit === "s") return 1000;
  if (unit === "m") return 60000;
  if (unit === "h") return 3600000;
  if (unit === "us") return 0.001;
  if (unit === "ns") return 0.000001;
  return undefined;
}

/**
 * x-ratelimit-reset-* in milliseconds. Azure sends seconds as a bare number ("7", "0.5"); OpenAI sends a
 * Go-style duration ("1s", "6m0s", "59ms", "1h2m3.5s"). Returns undefined for anything else.
 */
export function parseResetDuration(this: void, text: string): number | undefined {
  let start = 0;
  let stop = text.length;
  while (start < stop && isBlank(text.charCodeAt(start))) start++;
  while (stop > start && isBlank(text.charCodeAt(stop - 1))) stop--;
  if (start === stop) return undefined;
  const seconds = decimalAt(text, start, stop);
  if (seconds !== undefined) return seconds * 1000;

  let total = 0;
  let i = start;
  while (i < stop) {
    const numberStart = i;
    while (i < stop && (isDigit(text.charCodeAt(i)) || text.charCodeAt(i) === DOT)) i++;
    const value = decimalAt(text, numberStart, i);
    if (value === undefined) return undefined;
    const unitStart = i;
    while (i < stop && text.charCodeAt(i) >= LOWER_A && text.charCodeAt(i) <= LOWER_Z) i++;
    if (i === unitStart) return undefined;
    const factor = unitMs(text.slice(unitStart, i));
    if (factor === undefined) return undefined;
    total = total + value * factor;
  }
  return total;
}

const MONTHS: { [name: string]: number | undefined } = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

function isLeap(this: void, y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(this: void, y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  if (m === 4 || m === 6 || m === 9 || m === 11) return 30;
  return 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(this: void, year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Splits on spaces, commas and dashes (the separators of the three HTTP-date forms). At most 8 tokens. */
function dateTokens(this: void, text: string): string[] | undefined {
  const tokens: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === COMMA || c === DASH || c === HTAB) {
      i++;
    } else {
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === SPACE || d === COMMA || d === DASH || d === HTAB) break;
        i++;
      }
      if (tokens.length === 8) return undefined;
      tokens.push(text.slice(start, i));
    }
  }
  return tokens;
}

/** An unsigned integer of 1..maxDigits digits, or undefined. */
function smallInt(this: void, text: string, maxDigits: number): number | undefined {
  const n = text.length;
  if (n === 0 || n > maxDigits) return undefined;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return undefined;
    v = v * 10 + (c - DIGIT_0);
  }
  return v;
}

/** "HH:MM:SS" → seconds of the day. */
function timeOfDay(this: void, text: string): number | undefined {
  if (text.length !== 8 || text.charCodeAt(2) !== COLON || text.charCodeAt(5) !== COLON) return undefined;
  const h = smallInt(text.slice(0, 2), 2);
  const m = smallInt(text.slice(3, 5), 2);
  const s = smallInt(text.slice(6, 8), 2);
  if (h === undefined || m === undefined || s === undefined || h > 23 || m > 59 || s > 60) return undefined;
  return h * 3600 + m * 60 + s;
}

function epochMs(this: void, year: number, monthName: string, day: number, time: string): number | undefined {
  const month = MONTHS[monthName];
  const seconds = timeOfDay(time);
  // typeof, not === undefined: in JS, MONTHS["constructor"] is a function.
  if (typeof month !== "number" || seconds === undefined || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day) * MS_PER_DAY + seconds * 1000;
}

/**
 * An HTTP-date (RFC 9110 §5.6.7) as epoch milliseconds: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the
 * obsolete RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
 */
export function parseHttpDate(this: void, text: string): number | undefined {
  const t = dateTokens(text);
  if (t === undefined) return undefined;
  if (t.length === 6) {
    // IMF-fixdate or RFC 850: weekday, day, month, year, time, GMT
    if (t[5] !== "GMT") return undefined;
    const day = smallInt(t[1]!, 2);
    let year = smallInt(t[3]!, 4);
    if (day === undefined || year === undefined) return undefined;
    if (t[3]!.length === 2) {
      // RFC 850 two-digit year; RFC 9110 says read it as the most recent year with those digits.
      year = year < 70 ? 2000 + year : 1900 + year;
    } else if (t[3]!.length !== 4) {
      return undefined;
    }
    return epochMs(year, t[2]!, day, t[4]!);
  }
  if (t.length === 5) {
    // asctime: weekday, month, day, time, year
    const day = smallInt(t[2]!, 2);
    const year = t[4]!.length === 4 ? smallInt(t[4]!, 4) : undefined;
    if (day === undefined || year === undefined) return undefined;
    return epochMs(year, t[1]!, day, t[3]!);
  }
  return undefined;
}

/** Retry-After in milliseconds from nowMs: delta-seconds, or an HTTP-date (a date in the past means 0). */
export function parseRetryAfter(this: void, text: string, nowMs: number): number | undefined {
  const seconds = parseDecimal(text);
  if (seconds !== undefined) return seconds * 1000;
  const at = parseHttpDate(text);
  if (at === undefined) return undefined;
  return at > nowMs ? at - nowMs : 0;
}

/** retry-after-ms or retry-after only: what a backend says explicitly, e.g. on a 503. */
export function explicitRetry(this: void, headers: HeaderTable | undefined, nowMs: number): RetrySignal | undefined {
  const afterMs = firstHeader(headers, "retry-after-ms");
  const ms = afterMs === undefined ? undefined : parseDecimal(afterMs);
  if (ms !== undefined) return { ms: Math.ceil(ms), source: "retry-after-ms" };
  const after = firstHeader(headers, "retry-after");
  const afterParsed = after === undefined ? undefined : parseRetryAfter(after, nowMs);
  if (afterParsed !== undefined) return { ms: Math.ceil(afterParsed), source: "retry-after" };
  return undefined;
}

/** One reset header alone (x-ratelimit-reset-requests or x-ratelimit-reset-tokens), in whole ms. */
export function resetMsOf(this: void, headers: HeaderTable | undefined, which: "requests" | "tokens"): number | undefined {
  const text = firstHeader(headers, which === "requests" ? "x-ratelimit-reset-requests" : "x-ratelimit-reset-tokens");
  const ms = text === undefined ? undefined : parseResetDuration(text);
  return ms === undefined ? undefined : Math.ceil(ms);
}

/** The larger of x-ratelimit-reset-requests and x-ratelimit-reset-tokens, in whole ms. */
export function resetMs(this: void, headers: HeaderTable | undefined): number | undefined {
  const requests = resetMsOf(headers, "requests");
  const tokens = resetMsOf(headers, "tokens");
  if (requests === undefined) return tokens;
  if (tokens === undefined) return requests;
  return Math.max(requests, tokens);
}

/** The first signal in precedence order, uncapped; undefined when the backend gave none we can read. */
export function retrySignal(this: void, headers: HeaderTable | undefined, nowMs: number): RetrySignal | undefined {
  const explicit = explicitRetry(headers, nowMs);
  if (explicit !== undefined) return explicit;
  const reset = resetMs(headers);
  if (reset !== undefined) return { ms: reset, source: "x-ratelimit-reset" };
  return undefined;
}

/** The cooldown to apply after a 429: the backend's signal or defaultMs, never more than maxMs, never negative. */
export function cooldownMs(
  this: void,
  headers: HeaderTable | undefined,
  nowMs: number,
  defaultMs: number,
  maxMs: number,
): Cooldown {
  const signal = retrySignal(headers, nowMs);
  const cap = maxMs > 0 ? maxMs : 0;
  if (signal === undefined) {
    return { ms: Math.min(defaultMs > 0 ? Math.ceil(defaultMs) : 0, cap), source: "default" };
  }
  return { ms: Math.min(signal.ms, cap), source: signal.source };
}

/** x-ratelimit-remaining-requests / -tokens as a number, or undefined when absent or unreadable. */
export function remaining(this: void, headers: HeaderTable | undefined, which: "requests" | "tokens"): number | undefined {
  const text = firstHeader(headers, which === "requests" ? "x-ratelimit-remaining-requests" : "x-ratelimit-remaining-tokens");
  return text === undefined ? undefined : parseDecimal(text);
}
