/**
 * Filesystem adapter: atomic writes (temp file in the same directory, fsync, rename) that leave an unchanged file
 * untouched, so APISIX — which polls apisix.yaml's mtime once a second — reloads only on a real change.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from "node:fs";
import path from "node:path";
import type { Rendered } from "./render.ts";

export const FILES = { apisix: "apisix.yaml", config: "config.yaml", otel: "otel-collector.yaml" } as const;

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes `content` unless the file already holds exactly it. Returns whether the file changed. */
export function writeAtomic(file: string, content: string, mode: number): boolean {
  const previous = readIfExists(file);
  if (previous === content) return false;
  const prevMtime = previous === undefined ? undefined : statSync(file).mtimeMs;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // APISIX compares mtimes at 1 s resolution: two writes within one second would look like no change.
  if (prevMtime !== undefined) {
    const prevSecond = Math.floor(prevMtime / 1000);
    if (Math.floor(statSync(file).mtimeMs / 1000) <= prevSecond) utimesSync(file, new Date(), new Date((prevSecond + 1) * 1000));
  }
  return true;
}

export interface WriteReport {
  written: string[];
  unchanged: string[];
}

/** apisix.yaml holds keys: owner-only. */
export function writeRendered(outDir: string, rendered: Rendered, only?: "apisix"): WriteReport {
  const report: WriteReport = { written: [], unchanged: [] };
  const put = (name: string, content: string, mode: number): void => {
    const file = path.join(outDir, name);
    (writeAtomic(file, content, mode) ? report.written : report.unchanged).push(file);
  };
  put(FILES.apisix, rendered.apisixYaml, 0o600);
  if (only === "apisix") return report;
  put(FILES.config, rendered.configYaml, 0o644);
  const otelFile = path.join(outDir, FILES.otel);
  if (rendered.otelYaml !== undefined) put(FILES.otel, rendered.otelYaml, 0o644);
  else rmSync(otelFile, { force: true });
  return report;
}
