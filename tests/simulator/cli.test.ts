// `spillway simulator`: flags and config files to instances, and the foreground run loop.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { register, run } from "../../scripts/simulator/cli.ts";
import type { SimulatorHandle } from "../../scripts/simulator/index.ts";
import { simulatorOptionsFromFlags } from "../../scripts/simulator/load-config.ts";
import { KEY, dpath, post } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "spillway-sim-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("options from flags and config", () => {
  it("starts one instance from flags with the toolkit deployments on port 8000", () => {
    const [o] = simulatorOptionsFromFlags({ apiKey: "k", streamInterval: "5" });
    expect(o).toMatchObject({ name: "sim", port: 8000, apiKey: "k", latency: { streamIntervalMs: 5 } });
    expect(o!.deployments["gpt-35-turbo-100k-token"]).toEqual({ model: "gpt-3.5-turbo", tpm: 100_000 });
    expect(o!.deployments.embedding100k).toBeDefined();
  });

  it("says how to supply the API key when none is given", () => {
    expect(() => simulatorOptionsFromFlags({})).toThrow(/--api-key, set SIMULATOR_API_KEY/);
  });

  it("reads several instances from a config file, with consecutive ports and the file's key", () => {
    const config = file("sims.json", { apiKey: "fk", instances: [{ name: "ptu1" }, { name: "payg1", port: 9100 }, { name: "payg2", region: "westeurope" }] });
    const list = simulatorOptionsFromFlags({ config, port: "8001" });
    expect(list.map((o) => [o.name, o.port, o.apiKey])).toEqual([["ptu1", 8001], ["payg1", 9100], ["payg2", 8003]].map(([n, p]) => [n, p, "fk"]));
    expect(list[2]!.region).toBe("westeurope");
    expect(simulatorOptionsFromFlags({ config, instance: "payg1" }).map((o) => o.name)).toEqual(["payg1"]);
    expect(() => simulatorOptionsFromFlags({ config, instance: "nope" })).toThrow(/no such instance/);
  });

  it("accepts aoai-api-simulator's deployment JSON (tokensPerMinute)", () => {
    const deployments = file("deployments.json", { "gpt-35-turbo-10k-token": { model: "gpt-3.5-turbo", tokensPerMinute: 10000 } });
    const [o] = simulatorOptionsFromFlags({ apiKey: "k", deployments });
    expect(Object.keys(o!.deployments)).toEqual(["gpt-35-turbo-10k-token"]);
  });

  it("reports unreadable or invalid files", () => {
    expect(() => simulatorOptionsFromFlags({ apiKey: "k", config: join(dir, "missing.json") })).toThrow(/cannot read simulator config/);
    expect(() => simulatorOptionsFromFlags({ apiKey: "k", config: file("bad.json", "{nope") })).toThrow(/not valid JSON/);
    expect(() => simulatorOptionsFromFlags({ apiKey: "k", port: "-1" })).toThrow(/--port must be a number/);
  });

  it("registers the simulator command with its flags", () => {
    const program = new Command("spillway");
    register(program);
    const cmd = program.commands.find((c) => c.name() === "simulator")!;
    expect(cmd.options.map((o) => o.long)).toEqual(
      expect.arrayContaining(["--config", "--instance", "--port", "--host", "--api-key", "--deployments", "--region", "--stream-interval"]),
    );
  });
});

describe("run", () => {
  it("serves until stopped, then closes the instances", async () => {
    const config = file("run.json", { apiKey: KEY, instances: [{ name: "a", deployments: { gpt: { model: "gpt-4o-mini" } } }, { name: "b", deployments: { gpt: { model: "gpt-4o-mini" } } }] });
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const stop = new AbortController();
    let handles: SimulatorHandle[] = [];
    let markReady = (): void => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const finished = run({ config, port: "0" }, { signal: stop.signal, onReady: (h) => ((handles = h), markReady()) });
    try {
      await ready;
      expect(handles.map((h) => h.name)).toEqual(["a", "b"]);
      const r = await post(handles[1]!.url, dpath("gpt", "chat/completions"), { messages: [], max_tokens: 1 });
      expect(r.headers["x-sim-instance"]).toBe("b");
      expect(write.mock.calls.map((c) => String(c[0])).join("")).toMatch(/simulator a listening on http:\/\/127\.0\.0\.1:\d+/);
      stop.abort();
      await finished;
      const after = await post(handles[1]!.url, dpath("gpt", "chat/completions"), { messages: [] });
      expect(after.status).toBe(0);
    } finally {
      write.mockRestore();
    }
  });
});
