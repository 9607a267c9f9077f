// Writing the files: atomic, unchanged files untouched, owner-only apisix.yaml; --dry-run redaction; --watch.
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run, renderOnce } from "../../renderer/cli.ts";
import { assertNoSecrets } from "../../renderer/redact.ts";
import { watchLoop } from "../../renderer/watch.ts";
import { FILES, writeAtomic } from "../../renderer/write.ts";
import { ConfigError, InternalError } from "../../lib/errors.ts";
import { envFileText, FULL_ENV, FULL_SECRETS, MINIMAL_ENV, tempDir } from "./fixtures.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const quiet = { log: () => undefined };

describe("writing", () => {
  it("writes atomically (no temp file left) and apisix.yaml is owner-only", async () => {
    const out = scratch();
    await run({ processEnv: MINIMAL_ENV, out, ...quiet });
    expect(readdirSync(out).sort()).toEqual(["apisix.yaml", "config.yaml"]);
    expect(statSync(path.join(out, FILES.apisix)).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(out, FILES.apisix), "utf8").trimEnd().endsWith("#END")).toBe(true);
  });

  it("does not rewrite a file whose content is unchanged (same inode, same mtime)", async () => {
    const out = scratch();
    await run({ processEnv: MINIMAL_ENV, out, ...quiet });
    const file = path.join(out, FILES.apisix);
    utimesSync(file, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    const before = statSync(file);
    const lines: string[] = [];
    await run({ processEnv: MINIMAL_ENV, out, log: (l) => lines.push(l) });
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(lines.join("\n")).toContain("wrote nothing, unchanged apisix.yaml, config.yaml");
  });

  it("replaces a changed file by rename and moves its mtime to a later second", () => {
    const file = path.join(scratch(), "apisix.yaml");
    expect(writeAtomic(file, "a\n#END\n", 0o600)).toBe(true);
    const first = statSync(file);
    expect(writeAtomic(file, "b\n#END\n", 0o600)).toBe(true);
    const second = statSync(file);
    expect(second.ino).not.toBe(first.ino);
    // APISIX polls mtimes at 1 s resolution: two writes within a second must still look different.
    expect(Math.floor(second.mtimeMs / 1000)).toBeGreaterThan(Math.floor(first.mtimeMs / 1000));
    expect(readFileSync(file, "utf8")).toBe("b\n#END\n");
  });

  it("writes nothing at all when the configuration is invalid", async () => {
    const out = scratch();
    await expect(run({ processEnv: { ...MINIMAL_ENV, AZURE_OPENAI_WEIGHT_0: "x" }, out, ...quiet })).rejects.toBeInstanceOf(ConfigError);
    expect(readdirSync(out)).toEqual([]);
  });

  it("removes a stale otel-collector.yaml when telemetry is turned off", async () => {
    const out = scratch();
    await run({ processEnv: { ...MINIMAL_ENV, OTEL_COLLECTOR_ENDPOINT: "localhost:4318" }, out, ...quiet });
    expect(existsSync(path.join(out, FILES.otel))).toBe(true);
    await run({ processEnv: MINIMAL_ENV, out, ...quiet });
    expect(existsSync(path.join(out, FILES.otel))).toBe(false);
  });
});

describe("--dry-run", () => {
  it("prints every file with each secret replaced by its variable name, and writes nothing", async () => {
    const out = scratch();
    let printed = "";
    await run({ processEnv: FULL_ENV, out, dryRun: true, stdout: (t) => (printed += t), ...quiet });
    expect(readdirSync(out)).toEqual([]);
    for (const secret of FULL_SECRETS) expect(printed).not.toContain(secret);
    expect(printed).toContain("api-key: <redacted:AZURE_OPENAI_KEY_0>");
    expect(printed).toContain("key: <redacted:GATEWAY_CLIENT_KEY_1>");
    expect(printed).toContain("password: <redacted:SPILLWAY_REDIS_PASSWORD>");
    expect(printed).toContain("redis_password: <redacted:SPILLWAY_REDIS_PASSWORD>");
    expect(printed).toMatch(/# --- apisix\.yaml ---[\s\S]*#END\n[\s\S]*# --- config\.yaml ---[\s\S]*# --- otel-collector\.yaml ---/);
  });

  it("refuses to print when a secret value still appears in the text", () => {
    expect(() => assertNoSecrets("api-key: leaked-secret-value", { AZURE_OPENAI_KEY_0: "leaked-secret-value" })).toThrow(InternalError);
    expect(() => assertNoSecrets("redis_host: redis", { SPILLWAY_REDIS_PASSWORD: "redis" })).not.toThrow(); // too short to scan for
  });
});

describe("--watch", () => {
  function setup(): { envFile: string; out: string; opts: Parameters<typeof renderOnce>[0] } {
    const dir = scratch();
    const envFile = path.join(dir, "app.env");
    writeFileSync(envFile, envFileText(MINIMAL_ENV));
    return { envFile, out: path.join(dir, "out"), opts: { envFile: [envFile], processEnv: {} } };
  }

  async function watchFor(opts: Parameters<typeof renderOnce>[0], out: string, ticks: number, between: (tick: number) => void): Promise<string[]> {
    const log: string[] = [];
    const controller = new AbortController();
    let tick = 0;
    await watchLoop({
      intervalMs: 20,
      load: async () => {
        between(tick);
        if (++tick >= ticks) controller.abort();
        return (await renderOnce(opts)).rendered;
      },
      writeApisix: (r) => writeAtomic(path.join(out, FILES.apisix), r.apisixYaml, 0o600),
      log: (l) => log.push(l),
      signal: controller.signal,
      configYaml: (await renderOnce(opts)).rendered.configYaml,
    });
    return log;
  }

  it("rewrites apisix.yaml when the env file changes (key rotation), and only then", async () => {
    const { envFile, out, opts } = setup();
    await run({ ...opts, out, ...quiet });
    const log = await watchFor(opts, out, 3, (tick) => {
      if (tick === 1) writeFileSync(envFile, envFileText({ ...MINIMAL_ENV, AZURE_OPENAI_KEY_0: "rotated-key-99999999999" }));
    });
    expect(log.filter((l) => l.startsWith("apisix.yaml changed"))).toHaveLength(1);
    expect(readFileSync(path.join(out, FILES.apisix), "utf8")).toContain("api-key: rotated-key-99999999999");
  });

  it("keeps the last good file and logs why when a re-read fails", async () => {
    const { envFile, out, opts } = setup();
    await run({ ...opts, out, ...quiet });
    const good = readFileSync(path.join(out, FILES.apisix), "utf8");
    const log = await watchFor(opts, out, 2, (tick) => {
      if (tick === 0) writeFileSync(envFile, envFileText({ ...MINIMAL_ENV, AZURE_OPENAI_ENDPOINT_0: "not a url" }));
      if (tick === 1) writeFileSync(envFile, "THIS LINE IS BROKEN\n");
    });
    expect(readFileSync(path.join(out, FILES.apisix), "utf8")).toBe(good);
    expect(log[0]).toMatch(/^re-read failed; keeping the last good apisix\.yaml:\ninvalid configuration[\s\S]*AZURE_OPENAI_ENDPOINT_0: is not a URL/);
    expect(log[1]).toMatch(/app\.env:1: expected KEY=value/);
  });

  it("reports a config.yaml change as needing a restart instead of applying it", async () => {
    const { envFile, out, opts } = setup();
    await run({ ...opts, out, ...quiet });
    const configBefore = readFileSync(path.join(out, FILES.config), "utf8");
    const log = await watchFor(opts, out, 2, (tick) => {
      if (tick === 0) writeFileSync(envFile, envFileText({ ...MINIMAL_ENV, SPILLWAY_LISTEN_PORT: "8080" }));
    });
    expect(log.filter((l) => l.startsWith("config.yaml would change"))).toHaveLength(1);
    expect(readFileSync(path.join(out, FILES.config), "utf8")).toBe(configBefore);
  });

  it("run --watch renders once, then stops cleanly on abort", async () => {
    const { out, opts } = setup();
    const controller = new AbortController();
    const lines: string[] = [];
    const running = run({ ...opts, out, watch: true, interval: "1", signal: controller.signal, log: (l) => lines.push(l) });
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(path.join(out, FILES.apisix))).toBe(true);
    controller.abort();
    await running;
    expect(lines.at(-1)).toBe("watching: re-reading the inputs every 1 s");
  });
});
