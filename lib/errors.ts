/**
 * Typed errors for every CLI command and the renderer. Commands throw these; the two entry points
 * (scripts/spillway.ts, and renderer/image-main.ts in the gateway image) are the only places that catch them, print
 * the message and exit with the code. This lives at the repository root so that neither renderer/ nor scripts/
 * imports from the other's internals to get it.
 */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Bad configuration (env vars, env files, Key Vault). The message names the variable and what to do. */
export class ConfigError extends Error {
  readonly exitCode = 3;
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** A tool or service this command needs is missing or failed (docker, terraform, az, APISIX). */
export class EnvironmentError extends Error {
  readonly exitCode = 4;
}

/** A bug in Spillway itself. */
export class InternalError extends Error {
  readonly exitCode = 70;
}

export function exitCodeOf(err: unknown): number {
  if (err && typeof err === "object" && "exitCode" in err && typeof err.exitCode === "number") return err.exitCode;
  return 1;
}
