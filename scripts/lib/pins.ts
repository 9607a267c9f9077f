/** The one place that pins the APISIX version we target (apisix/pins.json). */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface Pins {
  apisix_version: string;
  apisix_image: string;
}

export const pins: Pins = JSON.parse(readFileSync(path.join(repoRoot, "apisix/pins.json"), "utf8")) as Pins;
