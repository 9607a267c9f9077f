// low-reserve: the request's lane and a backend's low-priority headroom, in Node and under LuaJIT.
import * as reserve from "../../plugins/lib/low-reserve.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const lane = (name: string, header: string | undefined, query: string | undefined, expected: string): DualCase => ({ name, args: [header, query], expected });

dualHost("laneOf", "lib.low-reserve", "laneOf", reserve.laneOf, [
  lane("neither: high", undefined, undefined, "high"),
  lane("header low", "low", undefined, "low"),
  lane("header, any case and spaces", "  LoW ", undefined, "low"),
  lane("header high", "high", undefined, "high"),
  lane("query low", undefined, "low", "low"),
  lane("query High", undefined, "High", "high"),
  lane("the header wins over the query", "high", "low", "high"),
  lane("header low, query high", "low", "high", "low"),
  lane("unknown header value", "urgent", undefined, "invalid-header"),
  lane("empty header value", "", undefined, "invalid-header"),
  lane("unknown header value, whatever the query", "1", "low", "invalid-header"),
  lane("unknown query value", undefined, "medium", "invalid-query"),
]);

const r = (name: string, conf: object, headers: Record<string, string> | undefined, expected: unknown): DualCase => ({ name, args: [conf, headers], expected });
const tokens = (value: number, reset_ms?: number) => ({ below: "tokens", value, reset_ms });
const requests = (value: number, reset_ms?: number) => ({ below: "requests", value, reset_ms });

dualHost("reserveShortfall", "lib.low-reserve", "reserveShortfall", reserve.reserveShortfall, [
  r("no headers: nothing learnt", { tokens: 100 }, undefined, undefined),
  r("no remaining-* figure: nothing learnt", { tokens: 100 }, { "x-ratelimit-limit-tokens": "1000" }, undefined),
  r("tokens above the reserve", { tokens: 100 }, { "x-ratelimit-remaining-tokens": "101" }, false),
  r("tokens at the reserve still pass", { tokens: 100 }, { "x-ratelimit-remaining-tokens": "100" }, false),
  r("tokens below the reserve, with the reset", { tokens: 100 }, { "x-ratelimit-remaining-tokens": "99", "x-ratelimit-reset-tokens": "12" }, tokens(99, 12000)),
  r("percent of the reported limit", { tokens_percent: 30 }, { "x-ratelimit-remaining-tokens": "29999", "x-ratelimit-limit-tokens": "100000" }, tokens(29999)),
  r("percent, above", { tokens_percent: 30 }, { "x-ratelimit-remaining-tokens": "30000", "x-ratelimit-limit-tokens": "100000" }, false),
  r("percent without a reported limit: no percentage reserve", { tokens_percent: 30 }, { "x-ratelimit-remaining-tokens": "5" }, false),
  r("the larger of absolute and percent", { tokens: 500, tokens_percent: 1 }, { "x-ratelimit-remaining-tokens": "400", "x-ratelimit-limit-tokens": "1000" }, tokens(400)),
  r("requests below", { requests: 3 }, { "x-ratelimit-remaining-tokens": "90000", "x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "1s" }, requests(2, 1000)),
  r("tokens are checked first", { tokens: 10, requests: 3 }, { "x-ratelimit-remaining-tokens": "0", "x-ratelimit-remaining-requests": "0" }, tokens(0)),
  r("a figure without a reserve is not checked", { requests: 3 }, { "x-ratelimit-remaining-tokens": "0" }, false),
  r("requests percent", { requests_percent: 10 }, { "x-ratelimit-remaining-requests": "9", "x-ratelimit-limit-requests": "100" }, requests(9)),
  r("garbage remaining ignored", { tokens: 10 }, { "x-ratelimit-remaining-tokens": "lots" }, undefined),
]);

const h = (name: string, headers: Record<string, string | string[]> | undefined, which: string, expected: string | undefined): DualCase => ({ name, args: [headers, which], expected });
dualHost("remainingHeader", "lib.low-reserve", "remainingHeader", reserve.remainingHeader, [
  h("absent", {}, "tokens", undefined),
  h("no headers", undefined, "requests", undefined),
  h("a whole number, as is", { "x-ratelimit-remaining-tokens": "99000" }, "tokens", "99000"),
  h("requests", { "x-ratelimit-remaining-requests": "7" }, "requests", "7"),
  h("a decimal, floored", { "x-ratelimit-remaining-tokens": "12.7" }, "tokens", "12"),
  h("repeated: the first", { "x-ratelimit-remaining-tokens": ["5", "9"] }, "tokens", "5"),
  h("garbage: none", { "x-ratelimit-remaining-tokens": "lots" }, "tokens", undefined),
]);
