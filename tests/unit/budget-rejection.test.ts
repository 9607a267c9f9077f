// budget-rejection: the answer to a client over its budget, in Node and under LuaJIT.
import * as budget from "../../plugins/lib/budget-rejection.ts";
import { dualHost } from "./lib/dual-host.ts";

dualHost("budgetUnit", "lib.budget-rejection", "budgetUnit", budget.budgetUnit, [
  { name: "total_tokens", args: ["total_tokens", undefined], expected: "tokens" },
  { name: "req (a cost of 1 per request)", args: ["expression", "1"], expected: "requests" },
  { name: "req, spaced", args: ["expression", " 1 "], expected: "requests" },
  { name: "another expression counts tokens", args: ["expression", "prompt_tokens + completion_tokens * 4"], expected: "tokens" },
  { name: "no strategy: APISIX's default (total_tokens)", args: [undefined, undefined], expected: "tokens" },
]);

dualHost("budgetRejection", "lib.budget-rejection", "budgetRejection", budget.budgetRejection, [
  {
    name: "tokens, reset in 12.3 s, with the limit",
    args: [429, "tokens", 12.3, 5000, undefined],
    expected: {
      status: 429,
      headers: { "retry-after": "13", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "13", "x-ratelimit-limit-tokens": "5000", "x-gw-ratelimit-reason": "client-token-budget" },
      message: "This client's token budget for the current window is used up. Please retry after 13 seconds.",
      type: "rate_limit_exceeded",
      code: "429",
    },
  },
  {
    name: "requests, reset unknown: 1 s, the configured message",
    args: [503, "requests", undefined, undefined, "Slow down."],
    expected: {
      status: 503,
      headers: { "retry-after": "1", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1", "x-gw-ratelimit-reason": "client-request-budget" },
      message: "Slow down. Please retry after 1 second.",
      type: "rate_limit_exceeded",
      code: "503",
    },
  },
  {
    name: "a reset under a second still says 1",
    args: [429, "tokens", 0.2, 10, undefined],
    expected: {
      status: 429,
      headers: { "retry-after": "1", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1", "x-ratelimit-limit-tokens": "10", "x-gw-ratelimit-reason": "client-token-budget" },
      message: "This client's token budget for the current window is used up. Please retry after 1 second.",
      type: "rate_limit_exceeded",
      code: "429",
    },
  },
]);
