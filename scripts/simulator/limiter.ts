/**
 * Per-deployment rate limiter, the same sliding window as aoai-api-simulator (reference aoai-simulator.md §2.6):
 * tokens over 60 s and requests over 10 s (rp10s = ceil(TPM/1000)); only accepted requests are recorded.
 * Times are integer-friendly milliseconds so `Retry-After` is exact under a fake clock.
 */
import type { Operation } from "./types.ts";

const TOKENS_WINDOW_MS = 60_000;
const REQUESTS_WINDOW_MS = 10_000;
/** Compact the entry arrays once this many expired entries sit at the front. */
const COMPACT_AFTER = 4096;
/** Chat, completions and responses cost this much when the request sets no max tokens (upstream rule). */
const DEFAULT_COMPLETION_COST = 16;

export type LimitReason = "tokens" | "requests";

export type WindowResult =
  | { success: true; remainingTokens: number; remainingRequests: number; limitTokens: number; limitRequests: number }
  | { success: false; retryAfter: number; reason: LimitReason };

export function requestsPer10s(tpm: number): number {
  return Math.ceil(tpm / 1000);
}

export class TokensPerMinuteWindow {
  // Entries sorted by time; [head, length) are live. Parallel arrays keep the hot path allocation-free.
  private times: number[] = [];
  private costs: number[] = [];
  private head = 0;
  /** First entry inside the 10 s window: advanced like `head`, so counting requests is O(1) amortised. */
  private head10 = 0;
  private lastCut10 = -Infinity;
  private liveTokens = 0;

  constructor(
    readonly requestsPer10s: number,
    readonly tokensPerMinute: number,
  ) {}

  /** Admit (and record) a request of `cost` tokens at `nowMs`, or say when it could fit. */
  add(cost: number, nowMs: number): WindowResult {
    this.purge(nowMs - TOKENS_WINDOW_MS);
    const tokens60 = cost + this.liveTokens;
    const requests10 = 1 + this.countSince(nowMs - REQUESTS_WINDOW_MS);
    if (tokens60 > this.tokensPerMinute || requests10 > this.requestsPer10s) {
      return this.rejection(cost, nowMs);
    }
    this.insert(nowMs, cost);
    return {
      success: true,
      remainingTokens: this.tokensPerMinute - tokens60,
      remainingRequests: this.requestsPer10s - requests10,
      limitTokens: this.tokensPerMinute,
      limitRequests: this.requestsPer10s,
    };
  }

  clear(): void {
    this.times = [];
    this.costs = [];
    this.head = 0;
    this.head10 = 0;
    this.lastCut10 = -Infinity;
    this.liveTokens = 0;
  }

  private purge(cutOff: number): void {
    while (this.head < this.times.length && this.times[this.head]! <= cutOff) {
      this.liveTokens -= this.costs[this.head]!;
      this.head++;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.costs = this.costs.slice(this.head);
      this.head10 = Math.max(0, this.head10 - this.head);
      this.head = 0;
    }
  }

  private countSince(cutOff: number): number {
    // A clock that went backwards (tests) may bring older entries back into the window: start over from head.
    if (cutOff < this.lastCut10 || this.head10 < this.head) this.head10 = this.head;
    this.lastCut10 = cutOff;
    while (this.head10 < this.times.length && this.times[this.head10]! <= cutOff) this.head10++;
    return this.times.length - this.head10;
  }

  private insert(nowMs: number, cost: number): void {
    let i = this.times.length;
    // A clock that went backwards (tests) keeps the order: insert before later entries.
    while (i > this.head && this.times[i - 1]! > nowMs) i--;
    this.times.splice(i, 0, nowMs);
    this.costs.splice(i, 0, cost);
    // An entry inserted in front of head10 shifts the entry head10 pointed at.
    if (i < this.head10) this.head10++;
    this.liveTokens += cost;
  }

  /**
   * Upstream's retry computation: walking newest to oldest, the entry at which the request count first exceeds
   * rp10s (or the token total first exceeds TPM) is the one that has to age out before this request fits.
   */
  private rejection(cost: number, nowMs: number): WindowResult {
    let requestsCount = 1;
    let tokensCount = cost;
    let requestsFullAt = -Infinity;
    let tokensFullAt = -Infinity;
    for (let i = this.times.length - 1; i >= this.head; i--) {
      if (requestsCount <= this.requestsPer10s) requestsCount++;
      if (tokensCount <= this.tokensPerMinute) tokensCount += this.costs[i]!;
      if (requestsFullAt === -Infinity && requestsCount > this.requestsPer10s) requestsFullAt = this.times[i]!;
      if (tokensFullAt === -Infinity && tokensCount > this.tokensPerMinute) tokensFullAt = this.times[i]!;
      if (requestsFullAt !== -Infinity && tokensFullAt !== -Infinity) break;
    }
    if (cost === this.tokensPerMinute && requestsFullAt === -Infinity && tokensFullAt === -Infinity && this.times.length > this.head) {
      tokensFullAt = this.times[this.times.length - 1]!;
    }
    const toResetRequests = REQUESTS_WINDOW_MS - (nowMs - requestsFullAt);
    const toResetTokens = TOKENS_WINDOW_MS - (nowMs - tokensFullAt);
    const reason: LimitReason = toResetRequests > toResetTokens ? "requests" : "tokens";
    const waitMs = reason === "requests" ? toResetRequests : toResetTokens;
    // Upstream crashes (500) when one request costs more than the whole TPM on an empty window; we say "a minute".
    const retryAfter = Number.isFinite(waitMs) && waitMs > 0 ? Math.ceil(waitMs / 1000) : TOKENS_WINDOW_MS / 1000;
    return { success: false, retryAfter, reason };
  }
}

function positive(v: unknown): number | undefined {
  return typeof v === "number" && v > 0 ? v : undefined;
}

/** Rate-limit cost (not billed usage): max tokens if set, else 16, else ceil(chars/4) per embeddings input. */
export function rateLimitCost(op: Operation, body: Record<string, unknown>): number {
  const max = positive(body.max_tokens) ?? positive(body.max_completion_tokens) ?? positive(body.max_output_tokens);
  if (max !== undefined) return max;
  if (op !== "embeddings") return DEFAULT_COMPLETION_COST;
  return embeddingsCost(body.input);
}

/** Strings cost ceil(chars/4) each; token arrays (which upstream cannot take) cost their length. */
function embeddingsCost(input: unknown): number {
  if (typeof input === "string") return Math.ceil(input.length / 4);
  if (!Array.isArray(input)) return 0;
  if (input.every((x) => typeof x === "number")) return input.length;
  let cost = 0;
  for (const item of input) {
    if (typeof item === "string") cost += Math.ceil(item.length / 4);
    else if (Array.isArray(item)) cost += item.length;
  }
  return cost;
}

/** One window per configured deployment; rebuilt (emptied) by PATCH /++/config and reset(). */
export class Limiters {
  private windows = new Map<string, TokensPerMinuteWindow>();

  constructor(tpmByDeployment: Record<string, number>) {
    for (const [name, tpm] of Object.entries(tpmByDeployment)) {
      this.windows.set(name, new TokensPerMinuteWindow(requestsPer10s(tpm), tpm));
    }
  }

  check(deployment: string, cost: number, nowMs: number): WindowResult | undefined {
    return this.windows.get(deployment)?.add(cost, nowMs);
  }

  reset(): void {
    for (const w of this.windows.values()) w.clear();
  }
}
