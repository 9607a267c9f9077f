// retry-signals: cooldown from retry-after-ms / retry-after / x-ratelimit-reset-*, in Node and under LuaJIT.
import * as signals from "../../plugins/lib/retry-signals.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const MOD = "lib.retry-signals";
const NOV_1994 = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

function httpDate(ms: number): string {
  return new Date(ms).toUTCString(); // IMF-fixdate, e.g. "Thu, 15 Jan 2026 12:00:30 GMT"
}

const decimals: DualCase[] = [
  ["0", 0], ["12", 12], [" 7 ", 7], ["\t3\t", 3], ["1.5", 1.5], ["1234.5", 1234.5], ["007", 7],
  ["0.123456789123", 0.123456789],
  ["", undefined], [" ", undefined], ["-1", undefined], ["+1", undefined], ["1e3", undefined], ["0x10", undefined],
  ["1.", undefined], [".5", undefined], ["1.2.3", undefined], ["abc", undefined], ["Infinity", undefined],
  ["NaN", undefined], ["1 2", undefined], ["5s", undefined],
].map(([text, expected]) => ({ name: JSON.stringify(text), args: [text], expected }));

const durations: DualCase[] = [
  ["1", 1000], ["0.5", 500], ["60", 60000], [" 2 ", 2000],
  ["1s", 1000], ["6m0s", 360000], ["59ms", 59], ["1h2m3.5s", 3723500], ["2m", 120000], ["1.5h", 5400000],
  ["0s", 0], ["1m30s", 90000], ["20ms", 20], ["1s500ms", 1500], ["2000us", 2],
  ["", undefined], ["s", undefined], ["ms", undefined], ["1x", undefined], ["1 s", undefined], ["-1s", undefined],
  ["1s2", undefined], ["1S", undefined], ["1.s", undefined], ["1m-2s", undefined], ["6m0s ", 360000],
].map(([text, expected]) => ({ name: JSON.stringify(text), args: [text], expected }));

const dates: DualCase[] = [
  ["Sun, 06 Nov 1994 08:49:37 GMT", NOV_1994],
  ["Sunday, 06-Nov-94 08:49:37 GMT", NOV_1994],
  ["Sun Nov  6 08:49:37 1994", NOV_1994],
  ["Thu, 01 Jan 1970 00:00:00 GMT", 0],
  ["Tue, 29 Feb 2000 12:00:00 GMT", Date.UTC(2000, 1, 29, 12)],
  ["Wed, 31 Dec 2025 23:59:60 GMT", Date.UTC(2026, 0, 1)],
  ["Friday, 01-Jan-38 00:00:00 GMT", Date.UTC(2038, 0, 1)],
  ["Thursday, 01-Jan-70 00:00:00 GMT", 0],
  [httpDate(NOW + 30000), NOW + 30000],
  ["Mon, 29 Feb 2100 00:00:00 GMT", undefined],
  ["Sun, 31 Apr 1994 08:49:37 GMT", undefined],
  ["Sun, 06 Nov 1994 24:00:00 GMT", undefined],
  ["Sun, 06 Nov 1994 08:60:00 GMT", undefined],
  ["Sun, 06 Foo 1994 08:49:37 GMT", undefined],
  ["Sun, 06 constructor 1994 08:49:37 GMT", undefined],
  ["Sun, 06 Nov 1994 08:49:37 PST", undefined],
  ["Sun, 06 Nov 1994 8:49:37 GMT", undefined],
  ["Sun, 06 Nov 19945 08:49:37 GMT", undefined],
  ["Sun, 06 Nov 1994", undefined],
  ["", undefined],
  ["tomorrow", undefined],
].map(([text, expected]) => ({ name: JSON.stringify(text), args: [text], expected }));

const retryAfter: DualCase[] = [
  { name: "delta-seconds", args: ["5", NOW], expected: 5000 },
  { name: "zero", args: ["0", NOW], expected: 0 },
  { name: "decimal seconds", args: ["1.5", NOW], expected: 1500 },
  { name: "HTTP-date 30 s ahead", args: [httpDate(NOW + 30000), NOW], expected: 30000 },
  { name: "HTTP-date in the past is 0", args: [httpDate(NOW - 60000), NOW], expected: 0 },
  { name: "negative is garbage", args: ["-5", NOW], expected: undefined },
  { name: "garbage", args: ["soon", NOW], expected: undefined },
];

const conf = { def: 10000, max: 120000 };
function cd(headers: Record<string, unknown> | undefined, expected: { ms: number; source: string }, def = conf.def, max = conf.max) {
  return { args: [headers, NOW, def, max], expected };
}
const cooldowns: DualCase[] = [
  { name: "retry-after-ms beats retry-after", ...cd({ "retry-after-ms": "1500", "retry-after": "9" }, { ms: 1500, source: "retry-after-ms" }) },
  { name: "fractional ms round up", ...cd({ "retry-after-ms": "1234.5" }, { ms: 1235, source: "retry-after-ms" }) },
  { name: "garbage retry-after-ms falls through", ...cd({ "retry-after-ms": "junk", "retry-after": "3" }, { ms: 3000, source: "retry-after" }) },
  { name: "negative retry-after-ms falls through", ...cd({ "retry-after-ms": "-5", "retry-after": "2" }, { ms: 2000, source: "retry-after" }) },
  { name: "retry-after beats the reset headers", ...cd({ "retry-after": "4", "x-ratelimit-reset-tokens": "50" }, { ms: 4000, source: "retry-after" }) },
  { name: "retry-after as HTTP-date", ...cd({ "retry-after": httpDate(NOW + 42000) }, { ms: 42000, source: "retry-after" }) },
  { name: "max of both reset headers (Azure seconds)", ...cd({ "x-ratelimit-reset-requests": "7", "x-ratelimit-reset-tokens": "12" }, { ms: 12000, source: "x-ratelimit-reset" }) },
  { name: "OpenAI durations", ...cd({ "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "59ms" }, { ms: 1000, source: "x-ratelimit-reset" }) },
  { name: "a bad reset header is ignored", ...cd({ "x-ratelimit-reset-tokens": "bad", "x-ratelimit-reset-requests": "2s" }, { ms: 2000, source: "x-ratelimit-reset" }) },
  { name: "reset durations are capped", ...cd({ "x-ratelimit-reset-requests": "6m0s" }, { ms: 120000, source: "x-ratelimit-reset" }) },
  { name: "garbage retry-after falls to resets", ...cd({ "retry-after": "later", "x-ratelimit-reset-tokens": "3" }, { ms: 3000, source: "x-ratelimit-reset" }) },
  { name: "no signal: default", ...cd({}, { ms: 10000, source: "default" }) },
  { name: "no headers at all: default", ...cd(undefined, { ms: 10000, source: "default" }) },
  { name: "all garbage: default", ...cd({ "retry-after-ms": "x", "retry-after": "", "x-ratelimit-reset-tokens": "-1" }, { ms: 10000, source: "default" }) },
  { name: "repeated header: first value", ...cd({ "retry-after": ["4", "9"] }, { ms: 4000, source: "retry-after" }) },
  { name: "huge retry-after capped", ...cd({ "retry-after": "999999" }, { ms: 120000, source: "retry-after" }) },
  { name: "absurd digits capped, not NaN", ...cd({ "retry-after-ms": "9".repeat(400) }, { ms: 120000, source: "retry-after-ms" }) },
  { name: "absurd fraction, not NaN", ...cd({ "retry-after-ms": "1." + "9".repeat(400) }, { ms: 2, source: "retry-after-ms" }) },
  { name: "retry-after-ms 0 is honoured", ...cd({ "retry-after-ms": "0", "retry-after": "5" }, { ms: 0, source: "retry-after-ms" }) },
  { name: "default above max is capped", ...cd({}, { ms: 500, source: "default" }, 10000, 500) },
  { name: "max 0 means no cooldown", ...cd({ "retry-after": "5" }, { ms: 0, source: "retry-after" }, 10000, 0) },
];

const remainingCases: DualCase[] = [
  { name: "requests", args: [{ "x-ratelimit-remaining-requests": "0" }, "requests"], expected: 0 },
  { name: "tokens", args: [{ "x-ratelimit-remaining-tokens": "119000" }, "tokens"], expected: 119000 },
  { name: "absent", args: [{}, "tokens"], expected: undefined },
  { name: "garbage", args: [{ "x-ratelimit-remaining-tokens": "-3" }, "tokens"], expected: undefined },
  { name: "no table", args: [undefined, "requests"], expected: undefined },
];

dualHost("parseDecimal", MOD, "parseDecimal", signals.parseDecimal, decimals);
dualHost("parseResetDuration", MOD, "parseResetDuration", signals.parseResetDuration, durations);
dualHost("parseHttpDate", MOD, "parseHttpDate", signals.parseHttpDate, dates);
dualHost("parseRetryAfter", MOD, "parseRetryAfter", signals.parseRetryAfter, retryAfter);
dualHost("cooldownMs precedence and caps", MOD, "cooldownMs", signals.cooldownMs, cooldowns);
dualHost("remaining", MOD, "remaining", signals.remaining, remainingCases);
