/**
 * Image build contexts. Builds never upload the work tree as is: the CLI copies into a temp directory only the
 * files that the Dockerfile's own ignore file (<Dockerfile>.dockerignore, the BuildKit convention) lets through,
 * plus the Dockerfile itself. `az acr build` would otherwise read only a root .dockerignore, and secrets files or
 * local Terraform state must never reach a registry's build storage, whatever an ignore file says.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isIgnored } from "./dockerignore.ts";

/** Never sent, even if an ignore file would let them through. */
export const NEVER_SENT = ["config/secrets.*.env", "**/secrets.*.env", "terraform/state", "terraform/.generated", "**/*.tfstate", "**/*.tfstate.*", ".env"].join("\n");
/** Never walked: large and never part of an image context (images run npm ci themselves). */
const SKIP_DIRS = new Set([".git", "node_modules", ".terraform"]);

export function ignoreFileOf(dockerfile: string): string {
  return `${dockerfile}.dockerignore`;
}

/** Pure: which of the repo's files go into the context of `dockerfile`. */
export function selectContextFiles(files: string[], ignoreText: string, dockerfile: string): string[] {
  return files.filter((f) => (f === dockerfile || !isIgnored(ignoreText, f)) && !isIgnored(NEVER_SENT, f));
}

export function listRepoFiles(root: string, dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...listRepoFiles(root, rel));
    } else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Copies the selected files into a fresh temp directory; the caller removes it with cleanup(). */
export function stageContext(root: string, dockerfile: string): { path: string; files: number; cleanup: () => void } {
  const ignoreText = readFileSync(path.join(root, ignoreFileOf(dockerfile)), "utf8");
  const files = selectContextFiles(listRepoFiles(root), ignoreText, dockerfile);
  const dest = mkdtempSync(path.join(os.tmpdir(), "spillway-context-"));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(dest, f));
  }
  return { path: dest, files: files.length, cleanup: () => rmSync(dest, { recursive: true, force: true }) };
}
