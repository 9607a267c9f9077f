/**
 * Typed readers over an env record that collect every problem instead of stopping at the first one
 * (t3-env style). "" counts as unset. Messages always name the variable and say what to do; they never echo a
 * value, because the value may be a secret.
 */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);
const INTEGER = /^[+-]?\d+$/;

export class Problems {
  readonly list: string[] = [];
  readonly warnings: string[] = [];

  add(variable: string, message: string): void {
    this.list.push(`${variable}: ${message}`);
  }

  warn(variable: string, message: string): void {
    this.warnings.push(`${variable}: ${message}`);
  }
}

export class EnvReader {
  constructor(
    readonly env: EnvRecord,
    readonly problems: Problems,
  ) {}

  /** The trimmed value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === "" ? undefined : trimmed;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    this.problems.add(name, "is not a boolean; use true or false (also accepted: 1/0, yes/no, any case)");
    return fallback;
  }

  int(name: string, opts: { fallback: number; min?: number; max?: number }): number;
  int(name: string, opts?: { min?: number; max?: number }): number | undefined;
  int(name: string, opts: { fallback?: number; min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return opts.fallback;
    if (!INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
      this.problems.add(name, `is not a whole number; write digits only, e.g. ${name}=${opts.fallback ?? opts.min ?? 1}`);
      return opts.fallback;
    }
    const n = Number(value);
    if (opts.min !== undefined && n < opts.min) {
      this.problems.add(name, `must be at least ${opts.min}`);
      return opts.fallback;
    }
    if (opts.max !== undefined && n > opts.max) {
      this.problems.add(name, `must be at most ${opts.max}`);
      return opts.fallback;
    }
    return n;
  }

  number(name: string, opts: { fallback: number; min: number; max: number }): number {
    const value = this.raw(name);
    if (value === undefined) return opts.fallback;
    const n = Number(value);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value) || !Number.isFinite(n) || n < opts.min || n > opts.max) {
      this.problems.add(name, `must be a number from ${opts.min} to ${opts.max}`);
      return opts.fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      this.problems.add(name, `must be one of: ${allowed.join(", ")}`);
      return fallback;
    }
    return match;
  }
}

export interface ParsedEndpoint {
  scheme: "http" | "https";
  host: string;
  port: number;
  /** scheme://host[:port], what ai-proxy-multi's override.endpoint gets. */
  origin: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Accepts scheme + host (+ port), with an optional trailing "/". Anything else is reported without echoing the
 * value (a pasted URL can carry a SAS token or a key in its query).
 */
export function parseEndpoint(name: string, value: string, allowHttp: boolean, problems: Problems): ParsedEndpoint | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.add(name, "is not a URL; write it as https://<resource>.openai.azure.com");
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    problems.add(name, `uses the scheme "${url.protocol.replace(/:$/, "")}"; only https (and http for a local simulator) are supported`);
    return undefined;
  }
  const scheme = url.protocol === "https:" ? "https" : "http";
  if (url.username !== "" || url.password !== "") {
    problems.add(name, "contains credentials; remove user:password@ from the URL and put the key in the matching AZURE_OPENAI_KEY_N");
    return undefined;
  }
  if (url.search !== "" || url.hash !== "") {
    problems.add(name, "has a query or fragment; give scheme and host only, e.g. https://<resource>.openai.azure.com");
    return undefined;
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    problems.add(name, `has the path "${url.pathname}"; give scheme and host only (the gateway forwards the client's path)`);
    return undefined;
  }
  if (scheme === "http" && !allowHttp && !isLoopback(url.hostname)) {
    problems.add(name, "uses http to a non-loopback host; use https, or set SPILLWAY_ALLOW_HTTP_BACKENDS=true for a test backend");
    return undefined;
  }
  const port = url.port === "" ? (scheme === "https" ? 443 : 80) : Number(url.port);
  return { scheme, host: url.hostname, port, origin: `${scheme}://${url.host}` };
}
