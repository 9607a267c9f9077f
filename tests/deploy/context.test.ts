import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { ignoreFileOf, listRepoFiles, selectContextFiles, stageContext } from "../../scripts/deploy/context.ts";
import { isIgnored } from "../../scripts/deploy/dockerignore.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";

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

/** The Dockerfile's `COPY <src>… <dest>` lines that read the build context (not `--from` another stage). */
function contextCopies(dockerfile: string): { sources: string[]; dest: string }[] {
  return dockerfile
    .split("\n")
    .filter((line) => /^COPY\s/.test(line) && !line.includes("--from="))
    .map((line) => {
      const args = line.trim().split(/\s+/).slice(1);
      return { sources: args.slice(0, -1), dest: args.at(-1)! };
    });
}

/** Files loaded at startup from the entry points: static imports only (lazy `import()`s of test code are left out). */
function staticImports(inputs: Metafile["inputs"], entryPoints: string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const dep of inputs[file]?.imports ?? []) if (!dep.external && dep.kind !== "dynamic-import") visit(dep.path);
  };
  entryPoints.forEach(visit);
  return [...seen].sort();
}

/** Whether a COPY puts `file` at the same path under the WORKDIR, where the relative imports look for it. */
function copiedInPlace(file: string, copies: { sources: string[]; dest: string }[]): boolean {
  return copies.some(({ sources, dest }) => {
    const to = dest.replace(/^\.\/?/, "").replace(/\/$/, "");
    return sources.some((src) => (file === src && (to === src || (to === "" && !src.includes("/")))) || (file.startsWith(`${src}/`) && to === src));
  });
}

describe("image build contexts of this repository", () => {
  // Each image's entry points (the simulator image runs scripts/spillway.ts, which loads every command module). A
  // file missing from an image fails only when the image starts, so the contexts are checked here.
  it.each([
    ["apisix/Dockerfile", ["renderer/image-main.ts"]],
    ["scripts/deploy/simulator.Dockerfile", ["scripts/spillway.ts", "scripts/simulator/cli.ts", "renderer/cli.ts", "scripts/start/cli.ts", "scripts/deploy/cli.ts", "scripts/bench/cli.ts"]],
  ])("%s copies every source file its entry points import, and its ignore file lets them through", async (dockerfile, entryPoints) => {
    const { metafile } = await build({
      entryPoints,
      absWorkingDir: repoRoot,
      bundle: true,
      platform: "node",
      format: "esm",
      packages: "external",
      write: false,
      outdir: "out",
      metafile: true,
      logLevel: "silent",
    });
    const sources = staticImports(metafile.inputs, entryPoints);
    expect(sources).toContain("lib/errors.ts");
    const ignore = readFileSync(path.join(repoRoot, ignoreFileOf(dockerfile)), "utf8");
    const copies = contextCopies(readFileSync(path.join(repoRoot, dockerfile), "utf8"));
    expect(sources.filter((f) => !copiedInPlace(f, copies)), "imported but not copied in place").toEqual([]);
    expect(sources.filter((f) => isIgnored(ignore, f)), "imported but kept out of the context").toEqual([]);
    const copiedButIgnored = copies.flatMap((c) => c.sources).filter((src) => isIgnored(ignore, src) && isIgnored(ignore, `${src}/any`));
    expect(copiedButIgnored, "COPY sources the ignore file keeps out").toEqual([]);
  });
});
