/**
 * The stack of a deployed gateway (--gateway-url): nothing is started or stopped, and the gateway's settings cannot
 * be changed from here. It must already run with the scenario's settings (`spillway e2e --print-env <scenario>`),
 * its backends named by role (ptu1, payg1, payg2). `configure` checks what it can — that each simulator answers its
 * control API and serves the toolkit's deployments — and says which names to expect.
 */
import { EnvironmentError } from "../../lib/errors.ts";
import type { GatewaySpec } from "./gateway-spec.ts";
import type { Role } from "./model.ts";
import type { RemotePlan } from "./options.ts";
import { SimulatorControl } from "./simulators.ts";
import type { Stack } from "./stack.ts";

/** Deployments the scenarios send to (the toolkit's set, aoai-simulator.md §1.1). */
export const REQUIRED_DEPLOYMENTS = ["gpt-35-turbo-100m-token", "gpt-35-turbo-100k-token", "gpt-35-turbo-20k-token", "gpt-35-turbo-10k-token"] as const;

/** APISIX's default; the renderer leaves it (docs/observability.md). */
const APISIX_METRICS_REFRESH_S = 15;

export function remoteStack(plan: RemotePlan): Stack {
  const simulators = Object.fromEntries(Object.entries(plan.simulators).map(([role, s]) => [role, new SimulatorControl(role as Role, s.url, s.key)])) as Record<Role, SimulatorControl>;
  const checked = new Set<Role>();
  return {
    mode: "remote",
    gatewayUrl: plan.gatewayUrl,
    ...(plan.metricsUrl !== undefined ? { metricsUrl: plan.metricsUrl } : {}),
    clients: plan.clients,
    simulators,
    workers: plan.workers,
    metricsRefreshS: APISIX_METRICS_REFRESH_S,
    describe: () => [
      `gateway: deployed, at ${plan.gatewayUrl} (${plan.workers} workers assumed, SPILLWAY_E2E_WORKERS); it must run each scenario's settings (spillway e2e --print-env <scenario>)`,
      `metrics: ${plan.metricsUrl ?? "none (checks that read them are skipped; pass --metrics-url)"}; simulators: ${Object.entries(plan.simulators).map(([r, s]) => `${r} ${s.url}`).join(", ")}`,
    ],
    async configure(scenario: string, spec: GatewaySpec) {
      for (const { role } of spec.backends) {
        if (checked.has(role)) continue;
        const sim = simulators[role];
        if (sim === undefined) throw new EnvironmentError(`${scenario} needs the ${role} simulator: set SIMULATOR_URL_${role.toUpperCase()}`);
        const deployments = await sim.deployments();
        const missing = REQUIRED_DEPLOYMENTS.filter((d) => deployments[d] === undefined);
        if (missing.length > 0) throw new EnvironmentError(`simulator ${role} at ${sim.url} lacks the toolkit's deployments ${missing.join(", ")}; start it without --deployments (docs/simulator.md)`);
        checked.add(role);
      }
      return (role: Role) => role;
    },
    stop: async () => undefined,
  };
}
