/**
 * The scenarios, in the order a run takes them (the toolkit's, §1.2–1.10, then the accelerator's load run and
 * streaming, latency routing last).
 */
import type { Scenario } from "../model.ts";
import { latencyRouting } from "./latency-routing.ts";
import { prioritizationTokenCalculating } from "./prioritization-calculating.ts";
import { prioritizationTokenTracking } from "./prioritization-tracking.ts";
import { ptuPaygBreaker, ptuPaygRetry } from "./ptu-payg.ts";
import { roundRobinSimple, roundRobinWeighted } from "./round-robin.ts";
import { streaming } from "./streaming.ts";
import { sustainedLoad } from "./sustained-load.ts";
import { usageTracking } from "./usage-tracking.ts";

export const SCENARIOS: readonly Scenario[] = [
  roundRobinSimple,
  roundRobinWeighted,
  ptuPaygRetry,
  ptuPaygBreaker,
  prioritizationTokenTracking,
  prioritizationTokenCalculating,
  usageTracking,
  streaming,
  sustainedLoad,
  latencyRouting,
];

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);
