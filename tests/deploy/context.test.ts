import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listRepoFiles, selectContextFiles, stageContext } from "../../scripts/deploy/context.ts";

const IGNORE = "*\n!package.json\n!renderer/**\n!build/lua/**\n!config/**\n";
const FILES = [
  "package.json", "renderer/a.ts", "renderer/sub/b.ts", "build/lua/x.lua", "apisix/Dockerfile", "README.md",
  "config/appsettings.dev.env", "config/secrets.dev.env", "terraform/state/dev/00-bootstrap.tfstate",
];

describe("image build context", () => {
  it("takes what the Dockerfile's ignore file re-includes, plus the Dockerfile, and never secrets", () => {
    expect(selectContextFiles(FILES, IGNORE, "apisix/Dockerfile")).toEqual([
      "package.json", "renderer/a.ts", "renderer/sub/b.ts", "build/lua/x.lua", "apisix/Dockerfile", "config/appsettings.dev.env",
    ]);
  });

  it("refuses secrets and state even when the ignore file lets everything through", () => {
    expect(selectContextFiles(FILES, "", "apisix/Dockerfile")).not.toEqual(expect.arrayContaining(["config/secrets.dev.env"]));
    expect(selectContextFiles(FILES, "", "apisix/Dockerfile").filter((f) => /secrets|tfstate/.test(f))).toEqual([]);
  });

  const root = mkdtempSync(path.join(os.tmpdir(), "spillway-ctx-test-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("stages the selected files into a temp dir and cleans it up", () => {
    for (const f of [...FILES, "node_modules/dep/index.js", ".git/HEAD"]) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), `content of ${f}`);
    }
    writeFileSync(path.join(root, "apisix/Dockerfile.dockerignore"), IGNORE);
    expect(listRepoFiles(root)).not.toContain("node_modules/dep/index.js");
    const staged = stageContext(root, "apisix/Dockerfile");
    try {
      expect(staged.files).toBe(6);
      expect(readFileSync(path.join(staged.path, "renderer/sub/b.ts"), "utf8")).toBe("content of renderer/sub/b.ts");
      expect(existsSync(path.join(staged.path, "config/secrets.dev.env"))).toBe(false);
      expect(existsSync(path.join(staged.path, "README.md"))).toBe(false);
    } finally {
      staged.cleanup();
    }
    expect(existsSync(staged.path)).toBe(false);
  });
});
