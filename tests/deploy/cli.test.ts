import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { ConfigError, UsageError } from "../../lib/errors.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { register } from "../../scripts/deploy/cli.ts";
import { run } from "../../scripts/deploy/run.ts";
import { fixturesDir, fixtureSecretValues } from "./helpers.ts";

async function dryRun(args: Partial<Parameters<typeof run>[0]>): Promise<string> {
  let out = "";
  await run({ stage: "workload", env: "dev", dryRun: true, imageTag: "t", configDir: fixturesDir, out: (t) => (out += t), err: () => {}, ...args });
  return out;
}

describe("spillway deploy", () => {
  it("registers `deploy <stage> <env>` with its options", () => {
    const program = new Command("spillway");
    register(program);
    const deploy = program.commands.find((c) => c.name() === "deploy");
    expect(deploy?.registeredArguments.map((a) => a.name())).toEqual(["stage", "env"]);
    expect(deploy?.options.map((o) => o.long)).toEqual(["--dry-run", "--deploy-e2e", "--local-docker", "--skip-build", "--image-tag", "--plan-only", "--config-dir"]);
  });

  it("--dry-run prints the plan and no secret value, for every stage and mode", async () => {
    const secrets = fixtureSecretValues();
    for (const stage of ["bootstrap", "observability", "platform", "foundry"]) {
      const out = await dryRun({ stage, imageTag: undefined });
      expect(out).toMatch(new RegExp(`^# spillway deploy ${stage} dev`));
      for (const s of secrets) expect(out).not.toContain(s);
    }
    for (const env of ["dev", "prod"]) {
      const out = await dryRun({ env, deployE2e: true, localDocker: true });
      expect(out).toContain("az keyvault secret set");
      for (const s of secrets) expect(out).not.toContain(s);
    }
  });

  it("runs through commander with --dry-run", async () => {
    const program = new Command("spillway").exitOverride();
    register(program);
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(["node", "spillway", "deploy", "platform", "dev", "--dry-run", "--config-dir", fixturesDir]);
    } finally {
      process.stdout.write = write;
    }
    expect(chunks.join("")).toMatch(/^# spillway deploy platform dev: \d+ steps/);
  });

  it.each([
    [{ stage: "network" }, /unknown stage "network"; use one of bootstrap, observability, platform, foundry, workload/],
    [{ stage: "platform", deployE2e: true, imageTag: undefined }, /apply to the workload stage only/],
    [{ skipBuild: true, imageTag: undefined }, /--skip-build needs --image-tag/],
  ])("rejects bad usage %j", async (args, message) => {
    const err = await dryRun(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it("says which file to create when the env files are missing", async () => {
    const err = await dryRun({ env: "qa" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/appsettings\.qa\.env not found: copy config\/appsettings\.env\.example/);
  });

  it("spawns tools with argument arrays, never through a shell", () => {
    const dir = path.join(repoRoot, "scripts", "deploy");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const src = readFileSync(path.join(dir, f), "utf8");
      expect(src, f).not.toMatch(/\bexecSync?\(|shell:\s*true|\bexecFile(Sync)?\(/);
    }
  });
});
