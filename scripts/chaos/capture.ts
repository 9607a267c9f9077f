/**
 * What the backends received, drained from each simulator's `/++/requests` in the background (a second after the last
 * round, one drain at a time, never piling up) so that the fault schedule never waits on it: each batch is checked for client credentials at once
 * (checks.ts), and only when each request arrived and how it was answered is kept (the all-throttled timeline).
 */
import type { Backend } from "./backends.ts";
import { checkCaptures, type CaptureFindings } from "./checks.ts";

const DRAIN_EVERY_MS = 1000;

export class CaptureLog {
  readonly findings: CaptureFindings = { captured: 0, leaks: [], wrongKey: 0 };
  /** Backend name → arrival time (ms) of every request it answered 429. */
  private readonly throttled = new Map<string, number[]>();
  private queue: Promise<void> = Promise.resolve();
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  /** Drains that failed (a busy simulator); their requests are checked by the next drain. */
  failures = 0;

  constructor(
    private readonly backends: readonly Backend[],
    private readonly clientSecrets: ReadonlyMap<string, string>,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.drainAll();
        await new Promise((r) => setTimeout(r, DRAIN_EVERY_MS));
      }
    })();
  }

  /** Drains one backend now (before it is closed: a closed simulator forgets what it received). */
  drain(b: Backend): Promise<void> {
    this.queue = this.queue.then(() => this.take(b));
    return this.queue;
  }

  drainAll(): Promise<void> {
    for (const b of this.backends) void this.drain(b);
    return this.queue;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.drainAll();
  }

  /** When `backend` answered 429, within [from, to]. */
  throttledBetween(backend: string, from: number, to: number): number[] {
    return (this.throttled.get(backend) ?? []).filter((t) => t >= from && t <= to);
  }

  private async take(b: Backend): Promise<void> {
    if (!b.listening()) return;
    let requests;
    try {
      requests = await b.drain();
    } catch {
      this.failures++;
      return;
    }
    const f = checkCaptures(new Map([[b.spec.name, requests]]), this.clientSecrets);
    this.findings.captured += f.captured;
    this.findings.wrongKey += f.wrongKey;
    this.findings.leaks.push(...f.leaks);
    const list = this.throttled.get(b.spec.name) ?? [];
    for (const r of requests) if (r.outcome === 429) list.push(r.time);
    this.throttled.set(b.spec.name, list);
  }
}
