/**
 * The load: `clients` concurrent loops, each sending one request at a time with a short random pause between.
 * Most are raw node:http clients (chat and streamed chat, both URL surfaces, every credential header form), some use
 * the official `openai` SDK (its OpenAI and AzureOpenAI clients, maxRetries 0), and a few send bad input. Every
 * request carries `x-chaos-id` (matched with the access log) and is judged when it ends (verdict.ts); the phase it
 * belongs to is the one running when it was sent.
 */
import type http from "node:http";
import type OpenAI from "openai";
import { API_VERSION, sdkChat, sdkClient, sdkStream, type SdkFlavour } from "./sdk-client.ts";
import { BAD_KINDS, badRequest, type BadKind } from "./bad-input.ts";
import { DEPLOYMENT } from "./backends.ts";
import type { Client } from "./gateway.ts";
import { clientAgent, rawRequest, type RawResult } from "./raw-client.ts";
import { checkBackendLabel, judgeChat, judgeError, secretsIn, type Verdict } from "./verdict.ts";

export type ClientKind = "raw" | "sdk-openai" | "sdk-azure" | "bad";

export interface Outcome {
  id: number;
  /** The phase it was sent in (the report files it under the phase it was answered in). */
  phase: number;
  client: ClientKind;
  /** "chat", "stream", or the bad-input kind. */
  what: string;
  sentAt: number;
  /** When the response headers (or the error) arrived; the end for a request that got none. */
  answeredAt: number;
  endedAt: number;
  verdict: Verdict;
  /** Labels of secrets found in what the client received. */
  secrets: string[];
}

export interface TrafficPlan {
  gatewayUrl: string;
  clients: readonly Client[];
  /** Loops: raw, SDK (half OpenAI, half AzureOpenAI) and bad-input clients. */
  raw: number;
  sdk: number;
  bad: number;
  /** Mean pause between a loop's requests (uniform 0..2×). */
  thinkMs: number;
  /** Longest a request may take under the configured timeouts; later is a hang. */
  deadlineMs: number;
  maxTokens: number;
  /** label → secret value: none may reach a client. */
  secrets: ReadonlyMap<string, string>;
  /** A backend name as the gateway reports it → the simulator behind it. */
  simulatorOf: (backend: string) => string | undefined;
}

const CREDENTIAL_FORMS = ["authorization", "api-key", "ocp-apim-subscription-key"] as const;

function credential(form: (typeof CREDENTIAL_FORMS)[number], key: string): Record<string, string> {
  return form === "authorization" ? { authorization: `Bearer ${key}` } : { [form]: key };
}

function chatBody(stream: boolean, maxTokens: number, id: number): string {
  return JSON.stringify({ model: DEPLOYMENT, messages: [{ role: "user", content: `chaos request ${id}` }], max_tokens: maxTokens, ...(stream ? { stream: true } : {}) });
}

type Sent = { what: string; verdict: Verdict; exposed: string[]; answeredAt?: number };
type Send = (id: number) => Promise<Sent>;

export class Traffic {
  /** The phase new requests belong to. */
  phase = 0;
  readonly outcomes: Outcome[] = [];
  private nextId = 1;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private inFlight = 0;

  constructor(private readonly plan: TrafficPlan) {}

  get sent(): number {
    return this.nextId - 1;
  }

  get open(): number {
    return this.inFlight;
  }

  start(): void {
    const p = this.plan;
    for (let i = 0; i < p.raw; i++) this.loops.push(this.loop("raw", this.rawChat(i, clientAgent())));
    for (let i = 0; i < p.sdk; i++) {
      const flavour: SdkFlavour = i % 2 === 0 ? "openai" : "azure";
      const sdk = sdkClient(flavour, p.gatewayUrl, p.clients[i % p.clients.length]!.key, p.deadlineMs);
      this.loops.push(this.loop(`sdk-${flavour}`, this.sdkCall(sdk)));
    }
    for (let i = 0; i < p.bad; i++) this.loops.push(this.loop("bad", this.badCall(i)));
  }

  /** No new requests; resolves when every open one has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async loop(client: ClientKind, send: Send): Promise<void> {
    // Loops start spread over one pause, not all in the same millisecond.
    await sleep(Math.random() * this.plan.thinkMs * 2);
    while (!this.stopping) {
      const id = this.nextId++;
      const phase = this.phase;
      const sentAt = Date.now();
      this.inFlight++;
      let result: Sent;
      try {
        result = await send(id);
      } catch (err) {
        result = { what: "?", verdict: { kind: "miss", reason: "no-answer", detail: `client error: ${(err as Error).message}` }, exposed: [] };
      } finally {
        this.inFlight--;
      }
      const endedAt = Date.now();
      this.outcomes.push({ id, phase, client, what: result.what, sentAt, answeredAt: result.answeredAt ?? endedAt, endedAt, verdict: result.verdict, secrets: secretsIn(result.exposed, this.plan.secrets) });
      await sleep(Math.random() * this.plan.thinkMs * 2);
    }
  }

  private rawChat(index: number, agent: http.Agent): Send {
    const p = this.plan;
    return async (id) => {
      const stream = id % 2 === 0;
      const key = p.clients[id % p.clients.length]!.key;
      const path = index % 2 === 0 ? "/openai/v1/chat/completions" : `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
      const headers = { "x-chaos-id": String(id), "content-type": "application/json", ...credential(CREDENTIAL_FORMS[id % 3]!, key) };
      const r = await rawRequest({ url: `${p.gatewayUrl}${path}`, headers, body: chatBody(stream, p.maxTokens, id), deadlineMs: p.deadlineMs, agent });
      const verdict = checkBackendLabel(judgeChat(r, stream, p.maxTokens), r.headers, p.simulatorOf);
      return { what: stream ? "stream" : "chat", verdict, exposed: exposedBy(r), ...answered(r) };
    };
  }

  private sdkCall(sdk: OpenAI): Send {
    const p = this.plan;
    return async (id) => {
      const stream = id % 2 === 0;
      const o = stream ? await sdkStream(sdk, p.maxTokens, String(id), `chaos request ${id}`, p.deadlineMs) : await sdkChat(sdk, p.maxTokens, String(id), `chaos request ${id}`, p.deadlineMs);
      const verdict = checkBackendLabel(o.verdict, o.headers ?? {}, p.simulatorOf);
      return { what: stream ? "stream" : "chat", verdict, exposed: o.exposed, ...(o.answeredAt !== undefined ? { answeredAt: o.answeredAt } : {}) };
    };
  }

  private badCall(index: number): Send {
    const p = this.plan;
    let turn = index;
    return async (id) => {
      const kind: BadKind = BAD_KINDS[turn++ % BAD_KINDS.length]!;
      const auth = credential(CREDENTIAL_FORMS[id % 3]!, p.clients[id % p.clients.length]!.key);
      const bad = badRequest(kind, auth, String(id));
      const extraMs = bad.request.pauseReadingMs ?? 0;
      const r = await rawRequest({ ...bad.request, url: `${p.gatewayUrl}${bad.request.path}`, deadlineMs: p.deadlineMs + extraMs * 2 });
      return { what: kind, verdict: judgeBad(r, bad), exposed: exposedBy(r), ...answered(r) };
    };
  }
}

function judgeBad(r: RawResult, bad: ReturnType<typeof badRequest>): Verdict {
  if (bad.abandons) return r.abandoned ? { kind: "abandoned" } : r.status === 0 ? { kind: "abandoned" } : judgeError(r.status, r.headers["content-type"], r.body, r.headers, [400, 408]);
  if (bad.streamTokens !== undefined) return judgeChat(r, true, bad.streamTokens, bad.allowed);
  if (r.timedOut) return { kind: "miss", reason: "hang", detail: `no answer within the deadline (status ${r.status || "none"})` };
  if (r.status === 0) return { kind: "miss", reason: "no-answer", detail: r.transportError ?? "closed without a response" };
  if (r.status < 400) return { kind: "miss", reason: "bad-status", detail: `${r.status} to bad input: ${r.body.slice(0, 200)}`, status: r.status };
  return judgeError(r.status, r.headers["content-type"], r.body, r.headers, bad.allowed);
}

function answered(r: RawResult): { answeredAt?: number } {
  return r.headersAt !== undefined ? { answeredAt: r.headersAt } : {};
}

function exposedBy(r: RawResult): string[] {
  return [JSON.stringify(r.headers), r.body];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
