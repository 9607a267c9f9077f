/**
 * What a client gets when its token (or request) budget for the window is used up (ai-rate-limiting refused it):
 * Azure's own 429 shape, so that SDKs back off by themselves. Portable TS (Lua and JS alike).
 *
 * 3.18's ai-rate-limiting answers its rejected_code with `{"error_msg": ...}` (or no body) and no Retry-After
 * (apisix-ai-contract.md §4.2); its X-AI-*-RateLimit-* headers stay as they are.
 */
export interface BudgetRejection {
  status: number;
  headers: { [name: string]: string };
  message: string;
  type: string;
  code: string;
}

/** The budget's unit: requests when each request costs 1 (AI_RATE_LIMIT_STRATEGY=req), else tokens. */
export function budgetUnit(this: void, strategy: string | undefined, costExpr: string | undefined): "tokens" | "requests" {
  return strategy === "expression" && costExpr !== undefined && costExpr.trim() === "1" ? "requests" : "tokens";
}

/**
 * `resetS`: seconds until the window resets, as ai-rate-limiting reported it (undefined: unknown, 1 s is said);
 * `limit`: the budget; `message`: the configured rejected_msg, if any.
 */
export function budgetRejection(
  this: void,
  status: number,
  unit: "tokens" | "requests",
  resetS: number | undefined,
  limit: number | undefined,
  message: string | undefined,
): BudgetRejection {
  const seconds = resetS === undefined || resetS < 1 ? 1 : Math.ceil(resetS);
  const headers: { [name: string]: string } = {
    "retry-after": `${seconds}`,
    [`x-ratelimit-remaining-${unit}`]: "0",
    [`x-ratelimit-reset-${unit}`]: `${seconds}`,
    "x-gw-ratelimit-reason": unit === "tokens" ? "client-token-budget" : "client-request-budget",
  };
  if (limit !== undefined) headers[`x-ratelimit-limit-${unit}`] = `${Math.floor(limit)}`;
  const base = message ?? `This client's ${unit === "tokens" ? "token" : "request"} budget for the current window is used up.`;
  const unitText = seconds === 1 ? "1 second" : `${seconds} seconds`;
  return { status, headers, message: `${base} Please retry after ${unitText}.`, type: "rate_limit_exceeded", code: `${status}` };
}
