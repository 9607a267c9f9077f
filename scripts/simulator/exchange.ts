/**
 * One request/response pair: writes Azure-like headers on every answer, records the outcome in the stats, and
 * offers the connection-level faults (reset, cut, hang).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorReply } from "./errors.ts";

export interface ExchangeOwner {
  name: string;
  region: string;
  /** Aborted when the simulator stops: sleeps return at once and streams give up. */
  signal: AbortSignal;
}

export type Outcome = number | "reset" | "hang";

export class Exchange {
  readonly requestId = randomUUID();
  /** Set by the caller that counts this exchange; called once with the status or the connection fault. */
  onOutcome: ((outcome: Outcome) => void) | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly owner: ExchangeOwner,
  ) {}

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded || this.owner.signal.aborted;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return {
      "x-sim-instance": this.owner.name,
      "x-request-id": this.requestId,
      "apim-request-id": this.requestId,
      "x-ms-region": this.owner.region,
      ...extra,
    };
  }

  private outcome(o: Outcome): void {
    const cb = this.onOutcome;
    this.onOutcome = undefined;
    cb?.(o);
  }

  json(status: number, body: unknown, extra: Record<string, string> = {}): void {
    if (this.closed) return;
    const text = JSON.stringify(body);
    this.res.writeHead(
      status,
      this.headers({ "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...extra }),
    );
    this.res.end(text);
    this.outcome(status);
  }

  error(reply: ErrorReply, extra: Record<string, string> = {}): void {
    this.json(reply.status, reply.body, extra);
  }

  /** 200 with SSE headers, flushed at once (the client sees the status before the first event). */
  startStream(extra: Record<string, string> = {}): void {
    if (this.closed) return;
    this.res.writeHead(200, this.headers({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...extra }));
    this.res.flushHeaders();
    this.outcome(200);
  }

  /** Write and wait for the kernel to take it (so a following cut happens after the client got the bytes). */
  write(chunk: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.res.write(chunk, () => resolve());
    });
  }

  end(): void {
    if (!this.closed) this.res.end();
  }

  /** Connection reset without any response (TCP RST where the platform allows it). */
  reset(): void {
    this.outcome("reset");
    const socket = this.req.socket;
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
    else socket.destroy();
  }

  /**
   * The status line and the first headers go out, then the connection is reset in the middle of the header block
   * (no blank line ever ends it): what a backend that dies while answering looks like to a proxy.
   */
  resetMidHeaders(): void {
    this.outcome("reset");
    const socket = this.req.socket;
    socket.write(`HTTP/1.1 200 OK\r\nx-sim-instance: ${this.owner.name}\r\nx-request-id: ${this.requestId}\r\ncontent-type: appli`, () => {
      if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
      else socket.destroy();
    });
  }

  /**
   * 200 with `Content-Type: application/json`, a correct Content-Length and a body that is not JSON (a chat
   * completion cut off mid-string): a backend bug that no status code reveals.
   */
  invalidJson(): void {
    if (this.closed) return;
    const text = `{"id":"chatcmpl-invalid","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"cut of`;
    this.res.writeHead(
      200,
      this.headers({ "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) }),
    );
    this.res.end(text);
    this.outcome(200);
  }

  /** Close the socket mid-response (the chunked body never terminates). */
  cut(): void {
    this.req.socket.destroy();
  }

  /** Never answer; the socket stays open until the client gives up or the simulator stops. */
  hang(): void {
    this.outcome("hang");
  }
}
