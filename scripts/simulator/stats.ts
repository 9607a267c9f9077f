/**
 * Ground truth for tests: per-instance counters and a bounded log of the requests received (what a gateway
 * actually forwarded). Control requests (/++/*) are not counted or logged. Keys are never stored.
 */
import type { RecordedRequest, SimulatorStats } from "./types.ts";

const SECRET_HEADERS = new Set(["api-key", "authorization", "ocp-apim-subscription-key"]);

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

export class Stats {
  private s!: SimulatorStats;

  constructor(private readonly instance: string) {
    this.reset();
  }

  reset(): void {
    this.s = {
      instance: this.instance,
      total: 0,
      streamed: 0,
      byDeployment: {},
      byStatus: {},
      byRoute: {},
      faults: 0,
      tokens: { prompt: 0, completion: 0 },
    };
  }

  request(route: string): void {
    this.s.total++;
    bump(this.s.byRoute, route);
  }

  deployment(name: string): void {
    bump(this.s.byDeployment, name);
  }

  /** A status code, or "reset" / "hang" for connection faults. */
  outcome(status: number | string): void {
    bump(this.s.byStatus, String(status));
  }

  streamed(): void {
    this.s.streamed++;
  }

  fault(): void {
    this.s.faults++;
  }

  tokens(prompt: number, completion: number): void {
    this.s.tokens.prompt += prompt;
    this.s.tokens.completion += completion;
  }

  snapshot(): SimulatorStats {
    return structuredClone(this.s);
  }
}

export class RequestLog {
  private items: RecordedRequest[] = [];

  constructor(private readonly size: number) {}

  add(item: RecordedRequest): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.splice(0, this.items.length - this.size);
  }

  /** Oldest first; the last `limit` when given. */
  list(limit?: number): RecordedRequest[] {
    const items = limit !== undefined && limit < this.items.length ? this.items.slice(-limit) : this.items;
    return structuredClone(items);
  }

  clear(): void {
    this.items = [];
  }
}

/** Lower-cased headers with credentials replaced by "[valid]" / "[invalid]" (Bearer keeps its scheme). */
export function redactHeaders(
  raw: Record<string, string | string[] | undefined>,
  isValidKey: (key: string) => boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const v = Array.isArray(value) ? value.join(", ") : value;
    if (!SECRET_HEADERS.has(name)) {
      out[name] = v;
      continue;
    }
    const bearer = /^bearer\s+(.*)$/i.exec(v);
    const key = name === "authorization" ? (bearer ? bearer[1]!.trim() : undefined) : v;
    const verdict = key !== undefined && isValidKey(key) ? "[valid]" : "[invalid]";
    out[name] = name === "authorization" && bearer ? `Bearer ${verdict}` : verdict;
  }
  return out;
}
