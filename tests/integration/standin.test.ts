// TEST CODE. The APISIX 3.18 stand-in (tests/host) and its nginx rig (tests/rig/nginx.ts). The behaviours it copies
// from APISIX (request phases, plugin confs, schema messages, reload, workers) are shared cases
// (shared/standin-cases.ts) that standin.apisix.test.ts runs on real APISIX 3.18.0 too. Below them, the stand-in's
// own mechanics, which real APISIX has no counterpart of: the launcher's refusals and the control port.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { toApisixYaml } from "../rig/apisix-yaml.ts";
import { startGateway, type StandinGateway } from "../rig/nginx.ts";
import { phasesSuite, schemaSuite, workersSuite } from "./shared/standin-cases.ts";
import { standin } from "./shared/hosts.ts";

const host = standin();
phasesSuite(host);
schemaSuite(host);
workersSuite(host);

let dir: string;

function writeYaml(name: string, doc: unknown, end = true): string {
  const file = path.join(dir, name);
  writeFileSync(file, toApisixYaml(doc, end));
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "spillway-standin-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stand-in only: nginx rig launcher (tests/rig/nginx.ts)", () => {
  it("refuses an apisix.yaml without the #END marker before starting nginx", async () => {
    const file = writeYaml("no-end.yaml", { routes: [] }, false);
    await expect(startGateway({ apisixYaml: file })).rejects.toThrow(/#END/);
  });

  it("refuses an unset ${{VAR}} without default before starting nginx", async () => {
    const file = path.join(dir, "unset.yaml");
    writeFileSync(file, "routes:\n  - uri: /x\n    upstream: {nodes: {'${{SPILLWAY_SURELY_UNSET_VAR}}': 1}}\n#END\n");
    await expect(startGateway({ apisixYaml: file })).rejects.toThrow(/SPILLWAY_SURELY_UNSET_VAR/);
  });

  it("leaves no temp directory behind when it refuses a config before starting nginx", async () => {
    const tmp = path.join(dir, "tmp");
    mkdirSync(tmp);
    vi.stubEnv("TMPDIR", tmp); // os.tmpdir() reads it on every call; test files run in separate workers
    try {
      await expect(startGateway({ apisixYaml: writeYaml("refused.yaml", { routes: [] }, false) })).rejects.toThrow(/#END/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("stand-in only: control port (POST /schema-check runs the stand-in's core.schema.check directly)", () => {
  let gw: StandinGateway | undefined;
  beforeAll(async () => {
    gw = await startGateway({ apisixYaml: writeYaml("empty.yaml", { routes: [] }) });
  });
  afterAll(() => gw?.stop());

  it("answers ok with the defaults injected, or the error", async () => {
    const check = async (conf: unknown) =>
      (await (await fetch(`${gw!.controlUrl}/schema-check`, { method: "POST", body: JSON.stringify({ schema: { type: "object", properties: { a: { type: "integer", default: 1 } } }, conf }) })).json()) as unknown;
    expect(await check({})).toEqual({ ok: true, err: null, conf: { a: 1 } });
    expect(await check({ a: "x" })).toEqual({ ok: false, err: 'property "a" validation failed: wrong type: expected integer, got string', conf: { a: "x" } });
  });
});
