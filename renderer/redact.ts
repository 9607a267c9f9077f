/**
 * --dry-run support: the same render with every secret replaced by a marker naming its variable, then a scan that
 * refuses to print if any real secret value still appears (a second line of defence against a secret that reached
 * the output through some other path).
 */
import { InternalError } from "../lib/errors.ts";
import type { Rendered } from "./render.ts";
import type { Secrets } from "./settings.ts";

/** Shorter values are not scanned for: they would match ordinary words of the config. */
const MIN_SCANNED_LENGTH = 8;

export function redactedSecrets(secrets: Secrets): Secrets {
  return Object.fromEntries(Object.keys(secrets).map((name) => [name, `<redacted:${name}>`]));
}

export function assertNoSecrets(text: string, secrets: Secrets): void {
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length >= MIN_SCANNED_LENGTH && text.includes(value)) {
      throw new InternalError(`refusing to print: the value of ${name} appears in the redacted output (a Spillway bug; please report it)`);
    }
  }
}

export function formatDryRun(rendered: Rendered, secrets: Secrets): string {
  const parts = [`# --- apisix.yaml ---\n${rendered.apisixYaml}`, `# --- config.yaml ---\n${rendered.configYaml}`];
  if (rendered.otelYaml !== undefined) parts.push(`# --- otel-collector.yaml ---\n${rendered.otelYaml}`);
  const text = parts.join("\n");
  assertNoSecrets(text, secrets);
  return text;
}
