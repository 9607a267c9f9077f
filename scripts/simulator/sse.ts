/**
 * Server-sent events as Azure sends them: `Content-Type: text/event-stream`, every frame `data: …\n\n` (Responses
 * frames also carry `event: <type>`). Preamble frames go out with the headers, each content frame follows a
 * pause of `intervalMs`, trailer frames follow the last content frame at once.
 */
import { sleep } from "./clock.ts";
import type { Exchange } from "./exchange.ts";

export const DONE_FRAME = "data: [DONE]\n\n";

export function dataFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function eventFrame(type: string, payload: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export interface StreamFault {
  kind: "stream-cut" | "stream-error";
  afterChunks: number;
}

export interface StreamPlan {
  preamble: string[];
  contentCount: number;
  content: (index: number) => string;
  trailer: () => string[];
  intervalMs: number;
  fault?: StreamFault;
  /** Frames written instead of the rest of the stream for a "stream-error" fault, given the content frames sent. */
  errorFrames: (sent: number) => string[];
  /** Extra response headers (rate-limit remaining, …). */
  headers: Record<string, string>;
}

export async function runStream(ex: Exchange, plan: StreamPlan): Promise<void> {
  ex.startStream(plan.headers);
  if (plan.preamble.length > 0) await ex.write(plan.preamble.join(""));
  const stopAt = plan.fault ? Math.min(plan.fault.afterChunks, plan.contentCount) : plan.contentCount;
  for (let i = 0; i < stopAt; i++) {
    await sleep(plan.intervalMs, ex.owner.signal);
    if (ex.closed) return;
    await ex.write(plan.content(i));
  }
  if (plan.fault?.kind === "stream-cut") {
    ex.cut();
    return;
  }
  if (plan.fault?.kind === "stream-error") {
    await ex.write(plan.errorFrames(stopAt).join(""));
    ex.end();
    return;
  }
  await ex.write(plan.trailer().join(""));
  ex.end();
}
