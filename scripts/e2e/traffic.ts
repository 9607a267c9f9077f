/**
 * Client traffic through the gateway, as the toolkit's Locust users make it: N users, each sending a request,
 * waiting for the whole answer, pausing its think time, and again. Every request carries `x-chaos-id` (a run-wide
 * number) so the local gateway's access log can be matched line for line (the chaos run's log format). Each answer
 * is kept as a small record: status, the gateway's x-gw-* headers, usage, timings.
 */
import type http from "node:http";
import type { ClientKey } from "./gateway-spec.ts";
import { exchange, keepAliveAgent, type ExchangeResult, type Frame } from "./http-client.ts";

export const API_VERSION = "2024-10-21";

export type Lane = "high" | "low";

export interface Call {
  /** Path and query under the gateway, e.g. /openai/deployments/d/completions?api-version=… */
  path: string;
  body: Record<string, unknown>;
  /** Index of the run's client whose key is sent. */
  client: number;
  lane?: Lane;
  stream?: boolean;
  /** A label the scenario groups answers by (a phase). */
  tag?: string;
}

export interface Sent {
  id: number;
  tag?: string;
  client: string;
  lane: Lane;
  /** Epoch ms when sent. */
  sentAt: number;
  status: number;
  /** x-gw-backend: the backend that answered (or last tried). */
  backend?: string;
  attempts?: number;
  /** Headers the scenarios read (x-gw-*, retry-after, content-type). */
  headers: Record<string, string>;
  /** usage.total_tokens of a 200 (the stream's usage chunk for streams). */
  totalTokens?: number;
  /** The request's max_tokens (what the simulator charges its window). */
  cost?: number;
  firstByteMs?: number;
  totalMs: number;
  frames?: Frame[];
  error?: string;
}

const KEPT_HEADERS = /^(x-gw-|retry-after|content-type$|x-ratelimit-)/;

export function chatPath(deployment: string): string {
  return `/openai/deployments/${deployment}/chat/completions?api-version=${API_VERSION}`;
}

export function completionsPath(deployment: string): string {
  return `/openai/deployments/${deployment}/completions?api-version=${API_VERSION}`;
}

/** usage.total_tokens of a JSON body or of the last SSE frame that carries usage. */
export function usageOf(r: Pick<ExchangeResult, "body" | "frames">): number | undefined {
  const read = (text: string): number | undefined => {
    try {
      const total = (JSON.parse(text) as { usage?: { total_tokens?: unknown } | null }).usage?.total_tokens;
      return typeof total === "number" ? total : undefined;
    } catch {
      return undefined;
    }
  };
  if (r.frames.length > 0) {
    let total: number | undefined;
    for (const f of r.frames) total = (f.data.startsWith("{") ? read(f.data) : undefined) ?? total;
    return total;
  }
  return r.body.startsWith("{") ? read(r.body) : undefined;
}

export interface UsersOptions {
  users: number;
  /** Stop starting requests after this long (ms)… */
  durationMs?: number;
  /** …or after this many requests in all. */
  requests?: number;
  /** Pause after each answer (ms), or a function of the answer (e.g. a backoff after a refusal). */
  thinkMs: number | ((s: Sent) => number);
  make: (user: number, n: number) => Call;
  /** Called with each answer as it comes. */
  onAnswer?: (s: Sent) => void;
  /** Stop early when it returns true. */
  stop?: () => boolean;
}

export class Traffic {
  private nextId = 1;

  constructor(
    readonly gatewayUrl: string,
    readonly clients: readonly ClientKey[],
    private readonly deadlineMs: number,
  ) {}

  /** The id the next request gets (scenarios note their range for the access-log ledger). */
  peekId(): number {
    return this.nextId;
  }

  async send(call: Call, agent?: http.Agent): Promise<Sent> {
    const id = this.nextId++;
    const client = this.clients[call.client];
    if (client === undefined) throw new Error(`scenario bug: no client ${call.client} (the run has ${this.clients.length})`);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "api-key": client.key,
      "x-chaos-id": String(id),
      ...(call.lane === "low" ? { "x-priority": "low" } : {}),
    };
    const r = await exchange({ url: `${this.gatewayUrl}${call.path}`, headers, body: JSON.stringify(call.body), stream: call.stream, deadlineMs: this.deadlineMs, agent });
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (KEPT_HEADERS.test(k)) kept[k] = v;
    const maxTokens = call.body.max_tokens;
    const attempts = Number(r.headers["x-gw-attempts"]);
    const s: Sent = {
      id,
      client: client.name,
      lane: call.lane ?? "high",
      sentAt: r.sentAt,
      status: r.status,
      headers: kept,
      totalMs: r.totalMs,
      ...(call.tag !== undefined ? { tag: call.tag } : {}),
      ...(r.headers["x-gw-backend"] !== undefined ? { backend: r.headers["x-gw-backend"] } : {}),
      ...(Number.isInteger(attempts) ? { attempts } : {}),
      ...(typeof maxTokens === "number" ? { cost: maxTokens } : {}),
      ...(r.firstByteMs !== undefined ? { firstByteMs: r.firstByteMs } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(call.stream === true ? { frames: r.frames } : {}),
    };
    const total = r.status === 200 ? usageOf(r) : undefined;
    if (total !== undefined) s.totalTokens = total;
    return s;
  }

  /** Closed-loop users until the duration or request count is reached; every answer, in the order received. */
  async users(o: UsersOptions): Promise<Sent[]> {
    const out: Sent[] = [];
    const until = o.durationMs !== undefined ? Date.now() + o.durationMs : Infinity;
    let started = 0;
    const more = (): boolean => Date.now() < until && (o.requests === undefined || started < o.requests) && !(o.stop?.() ?? false);
    const user = async (u: number): Promise<void> => {
      const agent = keepAliveAgent(this.gatewayUrl);
      try {
        for (let n = 0; more(); n++) {
          started++;
          const s = await this.send(o.make(u, n), agent);
          out.push(s);
          o.onAnswer?.(s);
          const think = typeof o.thinkMs === "number" ? o.thinkMs : o.thinkMs(s);
          if (think > 0 && more()) await sleep(think);
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all(Array.from({ length: o.users }, (_, u) => user(u)));
    return out;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
