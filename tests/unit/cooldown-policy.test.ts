// cooldown-policy: per-attempt cooldown and error count, in Node and under LuaJIT.
import * as policy from "../../plugins/lib/cooldown-policy.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const NOW = 1_768_000_000_000;
const conf = {
  default_429_cooldown_ms: 10000,
  max_cooldown_ms: 120000,
  error_cooldown_ms: 5000,
  error_threshold: 2,
  remaining_tokens_floor: 1000,
};

function c(name: string, kind: string, headers: Record<string, unknown> | undefined, errors: number, expected: object, cf: object = conf): DualCase {
  return { name, args: [cf, kind, headers, NOW, errors], expected };
}
const cool = (ms: number, errors: number, reason: string) => ({ cool_until_ms: NOW + ms, cooldown_ms: ms, errors, reason });
const none = (errors: number) => ({ cooldown_ms: 0, errors, reason: "none" });

const cases: DualCase[] = [
  c("429 with retry-after-ms", "throttled", { "retry-after-ms": "2500" }, 1, cool(2500, 1, "retry-after-ms")),
  c("429 with retry-after", "throttled", { "retry-after": "7" }, 0, cool(7000, 0, "retry-after")),
  c("429 with reset headers only", "throttled", { "x-ratelimit-reset-tokens": "30" }, 0, cool(30000, 0, "x-ratelimit-reset")),
  c("429 without signals: default", "throttled", {}, 0, cool(10000, 0, "default")),
  c("429 capped by max_cooldown_ms", "throttled", { "retry-after": "3600" }, 0, cool(120000, 0, "retry-after")),
  c("429 retry-after 0: no cooldown", "throttled", { "retry-after": "0" }, 0, { cooldown_ms: 0, errors: 0, reason: "retry-after" }),
  c("429 leaves the error count alone", "throttled", {}, 3, cool(10000, 3, "default")),
  c("first 5xx counts, below threshold", "server_error", {}, 0, none(1)),
  c("second 5xx reaches threshold", "server_error", {}, 1, cool(5000, 2, "error-threshold")),
  c("timeout counts too", "timeout", undefined, 1, cool(5000, 2, "error-threshold")),
  c("connect error counts too", "connect_error", undefined, 0, none(1)),
  c("past threshold: half-open re-cool at once", "connect_error", undefined, 2, cool(5000, 3, "error-threshold")),
  c("503 with Retry-After cools at once", "server_error", { "retry-after": "20" }, 0, cool(20000, 1, "retry-after")),
  c("503 with retry-after-ms capped", "server_error", { "retry-after-ms": "999999999" }, 0, cool(120000, 1, "retry-after-ms")),
  c("503 with retry-after 0 falls to the threshold", "server_error", { "retry-after": "0" }, 1, cool(5000, 2, "error-threshold")),
  c("5xx ignores reset headers (not a throttle)", "server_error", { "x-ratelimit-reset-tokens": "30" }, 0, none(1)),
  c("success resets the count", "ok", { "x-ratelimit-remaining-requests": "5", "x-ratelimit-remaining-tokens": "5000" }, 4, none(0)),
  c("success without headers", "ok", undefined, 1, none(0)),
  c("success with 0 requests left: until reset", "ok", { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6" }, 1, cool(6000, 0, "remaining-requests")),
  c("0 requests left, no reset: default", "ok", { "x-ratelimit-remaining-requests": "0" }, 0, cool(10000, 0, "remaining-requests")),
  c("tokens under floor: until token reset", "ok", { "x-ratelimit-remaining-tokens": "999", "x-ratelimit-reset-tokens": "45s" }, 0, cool(45000, 0, "remaining-tokens")),
  c("tokens at floor: fine", "ok", { "x-ratelimit-remaining-tokens": "1000", "x-ratelimit-reset-tokens": "45" }, 0, none(0)),
  c("both exhausted: the later reset", "ok", { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "50" }, 0, cool(50000, 0, "remaining-requests")),
  c("quota reset capped", "ok", { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1h" }, 0, cool(120000, 0, "remaining-requests")),
  c("floor 0 never triggers on tokens", "ok", { "x-ratelimit-remaining-tokens": "0" }, 0, none(0), { ...conf, remaining_tokens_floor: 0 }),
  c("garbage remaining ignored", "ok", { "x-ratelimit-remaining-requests": "none" }, 2, none(0)),
  c("client error changes nothing", "client_error", { "retry-after": "5" }, 1, none(1)),
  c("threshold 1 cools on the first failure", "timeout", undefined, 0, cool(5000, 1, "error-threshold"), { ...conf, error_threshold: 1 }),
];

dualHost("decideCooldown", "lib.cooldown-policy", "decideCooldown", policy.decideCooldown, cases);
