/**
 * The renderer's output on real APISIX 3.18.0 (issue: "Real APISIX 3.18 must load the output unchanged in
 * standalone mode"): render for two simulators, start APISIX (pinned Docker image, or APISIX_HOME) on exactly those
 * files, and check the basics through the official SDK. Without Docker or APISIX_HOME the suite is reported
 * skipped with the reason, never passed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../renderer/cli.ts";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { severeLines, type Gateway } from "../rig/gateway.ts";
import { freePort } from "../rig/nginx.ts";
import { APISIX_VERSION, apisixAvailability, startApisix } from "../rig/apisix.ts";

const SIM_KEY = "sim-key-rendered-0123456789";
const CLIENT_KEY = "team-a-client-key-0123456789abcdef";
const availability = await apisixAvailability();

if (!availability.ok) {
  describe.skip(`rendered config on real APISIX ${APISIX_VERSION} — skipped: ${availability.reason}`, () => {
    it("loads unchanged, serves chat with failover, healthz without auth", () => {});
  });
} else {
  describe(`rendered config on real APISIX ${APISIX_VERSION} (${availability.mode})`, () => {
    let sims: SimulatorHandle[] = [];
    let gw: Gateway | undefined;

    beforeAll(async () => {
      sims = await startSimulators(["sim-primary", "sim-spill"].map((name) => ({
        name,
        apiKey: SIM_KEY,
        deployments: { "gpt-4o-mini": { model: "gpt-4o-mini" } },
        latency: { baseMs: 0, perTokenMs: 0 },
      })));
      const dir = mkdtempSync(path.join(tmpdir(), "spillway-rendered-apisix-"));
      const env: Record<string, string> = {
        GATEWAY_CLIENT_NAME_0: "team-a",
        GATEWAY_CLIENT_KEY_0: CLIENT_KEY,
        SPILLWAY_LISTEN_HOST: "127.0.0.1",
        SPILLWAY_LISTEN_PORT: String(await freePort()),
      };
      sims.forEach((s, i) => {
        env[`AZURE_OPENAI_ENDPOINT_${i}`] = s.url;
        env[`AZURE_OPENAI_KEY_${i}`] = SIM_KEY;
        env[`AZURE_OPENAI_NAME_${i}`] = s.name;
        env[`AZURE_OPENAI_PRIORITY_${i}`] = String(10 - i * 5);
      });
      await run({ processEnv: env, out: dir, log: () => {} });
      gw = await startApisix({ apisixYaml: path.join(dir, "apisix.yaml"), configYaml: path.join(dir, "config.yaml") }, availability);
    });

    afterAll(async () => {
      await gw?.stop();
      await stopSimulators(sims);
    });

    it("loads unchanged, serves chat with failover, healthz without auth", async () => {
      expect((await fetch(`${gw!.url}/healthz`)).status).toBe(200);
      sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 30_000 }]);
      const client = new OpenAI({ baseURL: `${gw!.url}/openai/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
      const { data, response } = await client.chat.completions
        .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 3 })
        .withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      expect(response.headers.get("x-gw-backend")).toBe("sim-spill");
      expect(severeLines(gw!.errorLog())).toEqual([]);
    });
  });
}
