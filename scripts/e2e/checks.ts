/**
 * Check constructors (pure): each states what was required, with its tolerance, and what was measured, so a report
 * line reads on its own ("p99 ≤ 1000 ms | 212 ms | PASS").
 */
import type { Check } from "./model.ts";

export type Format = (x: number) => string;

export const plain: Format = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
export const ms: Format = (x) => `${Math.round(x)} ms`;
export const pct: Format = (x) => `${(100 * x).toFixed(1)} %`;

export function check(name: string, pass: boolean, expected: string, actual: string): Check {
  return { name, status: pass ? "pass" : "fail", expected, actual };
}

export function skipped(name: string, why: string): Check {
  return { name, status: "skip", expected: "–", actual: `not checked: ${why}` };
}

export function equals(name: string, actual: number, expected: number, fmt: Format = plain): Check {
  return check(name, actual === expected, `= ${fmt(expected)}`, fmt(actual));
}

export function atMost(name: string, actual: number | undefined, max: number, fmt: Format = plain): Check {
  if (actual === undefined) return check(name, false, `≤ ${fmt(max)}`, "nothing measured");
  return check(name, actual <= max, `≤ ${fmt(max)}`, fmt(actual));
}

export function atLeast(name: string, actual: number | undefined, min: number, fmt: Format = plain): Check {
  if (actual === undefined) return check(name, false, `≥ ${fmt(min)}`, "nothing measured");
  return check(name, actual >= min, `≥ ${fmt(min)}`, fmt(actual));
}

export function between(name: string, actual: number | undefined, min: number, max: number, fmt: Format = plain): Check {
  if (actual === undefined) return check(name, false, `${fmt(min)} … ${fmt(max)}`, "nothing measured");
  return check(name, actual >= min && actual <= max, `${fmt(min)} … ${fmt(max)}`, fmt(actual));
}

/** |actual − target| ≤ tolerance. */
export function near(name: string, actual: number | undefined, target: number, tolerance: number, fmt: Format = plain): Check {
  if (actual === undefined) return check(name, false, `${fmt(target)} ± ${fmt(tolerance)}`, "nothing measured");
  return check(name, Math.abs(actual - target) <= tolerance, `${fmt(target)} ± ${fmt(tolerance)}`, fmt(actual));
}

export function passed(checks: readonly Check[]): boolean {
  return checks.every((c) => c.status !== "fail");
}
