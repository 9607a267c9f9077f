import { describe, expect, it } from "vitest";
import { EnvironmentError } from "../../lib/errors.ts";
import { executePlan, type ExecDeps } from "../../scripts/deploy/execute.ts";
import type { Plan, Tool } from "../../scripts/deploy/plan.ts";
import { fixtureConfig, fixturePlan } from "./helpers.ts";

const OUTPUTS: Record<string, Record<string, { value: unknown }>> = {
  "00-bootstrap": {
    state_container_name: { value: "tfstate" },
    state_resource_group_name: { value: "rg-spillway-dev-state" },
    state_storage_account_name: { value: "stspillwaydevabc123" },
  },
  "10-platform": {
    container_registry_login_server: { value: "crspillwaydevabc123.azurecr.io" },
    container_registry_name: { value: "crspillwaydevabc123" },
    key_vault_name: { value: "kv-spillw-dev-abc123" },
  },
  "15-foundry": {},
  "20-workload": { gateway_url: { value: "https://ca-spillway-dev-gateway.example.azurecontainerapps.io" } },
};

interface Recorded {
  staged: { dockerfile: string; cleaned: boolean }[];
  calls: { tool: Tool; args: string[] }[];
  logs: string[];
  tempFiles: { path: string; value: string; cleaned: boolean }[];
  written: Record<string, unknown>;
}

function fakeDeps(opts: { existingSecrets?: string[]; failOn?: (tool: Tool, args: string[]) => boolean } = {}): { deps: ExecDeps; rec: Recorded } {
  const rec: Recorded = { staged: [], calls: [], logs: [], tempFiles: [], written: {} };
  let n = 0;
  const deps: ExecDeps = {
    async run(tool, args, capture) {
      rec.calls.push({ tool, args });
      if (opts.failOn?.(tool, args)) return { code: 1, stdout: "" };
      if (tool === "az" && args[2] === "show") {
        const name = args[args.indexOf("--name") + 1]!;
        return (opts.existingSecrets ?? []).includes(name) ? { code: 0, stdout: `https://kv/secrets/${name}\n` } : { code: 3, stdout: "" };
      }
      if (capture && tool === "terraform" && args[1] === "output") {
        const stack = args[0]!.split("/").pop()!;
        return { code: 0, stdout: JSON.stringify(OUTPUTS[stack] ?? {}) };
      }
      return { code: 0, stdout: "" };
    },
    writeJson(file, value) {
      rec.written[file] = value;
    },
    tempSecretFile(value) {
      const entry = { path: `/tmp/spillway-secret-${++n}/value`, value, cleaned: false };
      rec.tempFiles.push(entry);
      return { path: entry.path, cleanup: () => void (entry.cleaned = true) };
    },
    randomSecret: () => "generated-random-value-for-test",
    stageContext(dockerfile) {
      const entry = { dockerfile, cleaned: false };
      rec.staged.push(entry);
      return { path: `/tmp/spillway-context-${rec.staged.length}`, files: 12, cleanup: () => void (entry.cleaned = true) };
    },
    log: (line) => rec.logs.push(line),
  };
  return { deps, rec };
}

describe("secret sync", () => {
  it("never puts a secret value on any command line, and feeds each through a temp file that is removed", async () => {
    const config = fixtureConfig("dev");
    const { deps, rec } = fakeDeps();
    await executePlan(fixturePlan("workload", "dev", { deployE2e: true }), config.secrets, deps);

    const argv = rec.calls.map((c) => c.args.join(" ")).join("\n");
    for (const value of [...Object.values(config.secrets), "generated-random-value-for-test"]) {
      expect(argv).not.toContain(value);
      expect(rec.logs.join("\n")).not.toContain(value);
    }
    const sets = rec.calls.filter((c) => c.tool === "az" && c.args.slice(0, 3).join(" ") === "keyvault secret set");
    expect(sets.map((c) => c.args[c.args.indexOf("--name") + 1])).toEqual(["azure-openai-key-0", "gateway-client-key-0", "gateway-client-key-1", "simulator-api-key"]);
    for (const c of sets) {
      const file = c.args[c.args.indexOf("--file") + 1];
      const temp = rec.tempFiles.find((t) => t.path === file);
      expect(temp, `temp file for ${file}`).toBeDefined();
      expect(c.args[c.args.indexOf("--vault-name") + 1]).toBe("kv-spillw-dev-abc123");
    }
    expect(rec.tempFiles.map((t) => t.value)).toEqual([...Object.values(config.secrets), "generated-random-value-for-test"]);
    expect(rec.tempFiles.every((t) => t.cleaned)).toBe(true);
  });

  it("keeps a generated secret that already exists instead of rotating it", async () => {
    const { deps, rec } = fakeDeps({ existingSecrets: ["simulator-api-key"] });
    await executePlan(fixturePlan("workload", "dev", { deployE2e: true }), fixtureConfig("dev").secrets, deps);
    const names = rec.calls.filter((c) => c.args[2] === "set").map((c) => c.args[c.args.indexOf("--name") + 1]);
    expect(names).not.toContain("simulator-api-key");
    expect(rec.tempFiles.map((t) => t.value)).not.toContain("generated-random-value-for-test");
  });

  it("removes the temp file even when az fails, and names the failed command without the value", async () => {
    const { deps, rec } = fakeDeps({ failOn: (tool, args) => tool === "az" && args[2] === "set" });
    const err = await executePlan(fixturePlan("workload", "dev"), fixtureConfig("dev").secrets, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(/az keyvault secret set .*exit code 1/);
    expect(rec.tempFiles).toHaveLength(1);
    expect(rec.tempFiles[0]!.cleaned).toBe(true);
  });
});

describe("plan execution", () => {
  it("fills placeholders from captured outputs and falls back when an optional output is absent", async () => {
    const { deps, rec } = fakeDeps();
    await executePlan(fixturePlan("workload", "dev"), fixtureConfig("dev").secrets, deps);
    const vars = rec.written["/repo/terraform/.generated/dev/20-workload.tfvars.json"] as Record<string, unknown>;
    expect(vars.gateway_image).toBe("crspillwaydevabc123.azurecr.io/spillway-gateway:3.18.0-abc123def456");
    expect(vars.provisioned_backends).toEqual([]);
    const init = rec.calls.find((c) => c.args[0] === "-chdir=/repo/terraform/stacks/20-workload" && c.args[1] === "init");
    expect(init?.args).toContain("-backend-config=storage_account_name=stspillwaydevabc123");
    expect(rec.logs).toContain("    gateway_url = https://ca-spillway-dev-gateway.example.azurecontainerapps.io");
  });

  it("builds every image from a staged context and removes the contexts at the end", async () => {
    const { deps, rec } = fakeDeps();
    await executePlan(fixturePlan("workload", "dev", { deployE2e: true }), fixtureConfig("dev").secrets, deps);
    expect(rec.staged.map((s) => s.dockerfile)).toEqual(["apisix/Dockerfile", "scripts/deploy/simulator.Dockerfile"]);
    expect(rec.staged.every((s) => s.cleaned)).toBe(true);
    const builds = rec.calls.filter((c) => c.args[0] === "acr" && c.args[1] === "build");
    expect(builds.map((c) => c.args.at(-1))).toEqual(["/tmp/spillway-context-1", "/tmp/spillway-context-2"]);
    expect(builds[0]!.args).toContain("APISIX_IMAGE=apache/apisix:3.18.0-debian");
  });

  it("removes staged contexts when a later step fails", async () => {
    const { deps, rec } = fakeDeps({ failOn: (tool, args) => tool === "az" && args[1] === "build" });
    await expect(executePlan(fixturePlan("workload", "dev"), fixtureConfig("dev").secrets, deps)).rejects.toThrow(/az acr build .*exit code 1/);
    expect(rec.staged).toHaveLength(1);
    expect(rec.staged[0]!.cleaned).toBe(true);
  });

  it("reports progress as [i/n] lines in order", async () => {
    const { deps, rec } = fakeDeps();
    const plan: Plan = fixturePlan("platform", "dev");
    await executePlan(plan, {}, deps);
    const progress = rec.logs.filter((l) => /^\[\d+\/\d+\]/.test(l));
    expect(progress).toHaveLength(plan.steps.length);
    expect(progress[0]).toBe(`[1/${plan.steps.length}] Read 00-bootstrap outputs`);
  });

  it("tells which stage to deploy first when a needed output is missing", async () => {
    const { deps } = fakeDeps();
    const base = deps.run;
    deps.run = async (tool, args, capture) => (args[0]?.endsWith("10-platform") && args[1] === "output" ? { code: 0, stdout: "{}" } : base(tool, args, capture));
    await expect(executePlan(fixturePlan("workload", "dev"), fixtureConfig("dev").secrets, deps)).rejects.toThrow(
      /output platform\.key_vault_name is missing: deploy that stage first \(spillway deploy platform <env>\)/,
    );
  });
});
