// `spillway` as a command: the package's bin (bin/spillway.mjs) runs the TypeScript CLI from any working directory,
// directly and through `npx spillway` in a checkout.
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/pins.ts";

const COMMANDS = ["simulator", "render", "start", "demo", "deploy", "bench", "chaos", "status", "e2e"];
const launcher = path.join(repoRoot, "bin/spillway.mjs");
const elsewhere = mkdtempSync(path.join(tmpdir(), "spillway-cli-"));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 60_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function listedCommands(help: string): string[] {
  return COMMANDS.filter((c) => new RegExp(`^  ${c} `, "m").test(help));
}

describe("spillway bin", () => {
  it("is declared in package.json and in the lock file's root entry, and is an executable node script", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { bin?: Record<string, string> };
    const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, { bin?: Record<string, string> }> };
    expect(pkg.bin).toEqual({ spillway: "bin/spillway.mjs" });
    expect(lock.packages[""]?.bin).toEqual(pkg.bin);
    expect(readFileSync(launcher, "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(() => accessSync(launcher, constants.X_OK)).not.toThrow();
  });

  it("lists every command when run from a directory outside the repository", () => {
    const res = run(process.execPath, [launcher, "--help"], elsewhere);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("Usage: spillway [options] [command]");
    expect(listedCommands(res.stdout)).toEqual(COMMANDS);
  });

  it("exits with the CLI's code for a typed error (usage: 2)", () => {
    const res = run(process.execPath, [launcher, "render", "--watch", "--dry-run"], elsewhere);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/^spillway: /);
  });

  // --offline --no: should the bin entry ever go, npx must fail here rather than fetch a registry package of that name.
  it("runs through `npx spillway` from a subdirectory of the checkout", () => {
    const help = run("npx", ["--offline", "--no", "--", "spillway", "--help"], path.join(repoRoot, "docs"));
    expect(help.status).toBe(0);
    expect(listedCommands(help.stdout)).toEqual(COMMANDS);
    const render = run("npx", ["--offline", "--no", "--", "spillway", "render", "--help"], path.join(repoRoot, "docs"));
    expect(render.status).toBe(0);
    expect(render.stdout).toContain("Usage: spillway render [options]");
  }, 120_000);
});
