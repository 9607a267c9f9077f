/**
 * Fault injection: an ordered list of FaultSpec; the first active one that matches a request applies.
 * Stream faults (stream-cut, stream-error) match only streamed requests. `times` counts down per application.
 */
import type { FaultKind, FaultSpec, Operation, RetryHeader } from "./types.ts";

const KINDS: FaultKind[] = ["status", "reset", "reset-mid-headers", "hang", "slow-first-byte", "stream-cut", "stream-error", "invalid-json"];
export const RETRY_HEADERS: RetryHeader[] = ["retry-after-ms", "retry-after", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"];
/** What a 429 fault carries unless `retryHeaders` says otherwise (Azure's usual set). */
export const DEFAULT_RETRY_HEADERS: RetryHeader[] = ["retry-after", "retry-after-ms", "x-ratelimit-reset-tokens"];
const OPERATIONS: Operation[] = ["chat", "completions", "embeddings", "responses"];

/** Problems in a fault list, each prefixed with its index ("[0].status: …"); empty when valid. */
export function validateFaults(faults: unknown): string[] {
  if (!Array.isArray(faults)) return [": must be an array of fault objects"];
  const problems: string[] = [];
  faults.forEach((f: unknown, i) => {
    const at = `[${i}]`;
    if (!f || typeof f !== "object") {
      problems.push(`${at}: must be an object like {"kind": "status", "status": 503}`);
      return;
    }
    const s = f as Record<string, unknown>;
    const intAtLeast = (key: string, min: number): void => {
      const v = s[key];
      if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min)) {
        problems.push(`${at}.${key}: must be an integer >= ${min}`);
      }
    };
    if (!KINDS.includes(s.kind as FaultKind)) problems.push(`${at}.kind: one of ${KINDS.join(", ")}`);
    if (s.kind === "status" && (typeof s.status !== "number" || !Number.isInteger(s.status) || s.status < 400 || s.status > 599)) {
      problems.push(`${at}.status: kind "status" needs an HTTP status 400-599`);
    }
    intAtLeast("times", 1);
    intAtLeast("retryAfterMs", 0);
    intAtLeast("delayMs", 0);
    intAtLeast("afterChunks", 0);
    if (s.deployment !== undefined && typeof s.deployment !== "string") problems.push(`${at}.deployment: must be a string`);
    if (s.operations !== undefined && (!Array.isArray(s.operations) || s.operations.some((o) => !OPERATIONS.includes(o as Operation)))) {
      problems.push(`${at}.operations: an array of ${OPERATIONS.join(", ")}`);
    }
    if (s.retryHeaders !== undefined && (!Array.isArray(s.retryHeaders) || s.retryHeaders.some((h) => !RETRY_HEADERS.includes(h as RetryHeader)))) {
      problems.push(`${at}.retryHeaders: an array of ${RETRY_HEADERS.join(", ")} ([] for none)`);
    }
    if (s.event !== undefined && s.event !== "error" && s.event !== "response.failed") {
      problems.push(`${at}.event: "error" or "response.failed"`);
    }
  });
  return problems;
}

export interface FaultTarget {
  deployment: string | undefined;
  op: Operation;
  stream: boolean;
}

export interface ActiveFault extends FaultSpec {
  /** Applications left; undefined = unlimited. */
  remaining?: number;
}

export class FaultBook {
  private entries: ActiveFault[] = [];

  constructor(faults: FaultSpec[] = []) {
    this.set(faults);
  }

  /** Replace the list (callers validate first). */
  set(faults: FaultSpec[]): void {
    this.entries = faults.map((f) => ({ ...f, remaining: f.times }));
  }

  clear(): void {
    this.entries = [];
  }

  list(): ActiveFault[] {
    return this.entries.map((f) => ({ ...f }));
  }

  /** The fault to apply to this request, if any; consumes one of its `times`. */
  take(target: FaultTarget): FaultSpec | undefined {
    for (const f of this.entries) {
      if (f.remaining !== undefined && f.remaining <= 0) continue;
      if (f.deployment !== undefined && f.deployment !== target.deployment) continue;
      if (f.operations !== undefined && !f.operations.includes(target.op)) continue;
      if ((f.kind === "stream-cut" || f.kind === "stream-error") && !target.stream) continue;
      if (f.remaining !== undefined) f.remaining--;
      return f;
    }
    return undefined;
  }
}
