/**
 * TEST CODE. The AI path behaviours the stand-in (tests/host/apisix/plugins/ai-*, standin/httpc.lua) copies from
 * APISIX 3.18.0 that the shared scenarios cannot express: client disconnects, lua_body_filter, keep-alive reuse,
 * response framings, flushing. Written once and run on both hosts: standin-ai.test.ts runs it on the stand-in,
 * standin-ai.apisix.test.ts on real APISIX (which loads the test-only probe plugin through luaPaths).
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { streamTimingProblems } from "../../scenarios/stream-timing.ts";
import { expectNoErrorLines, parseAccessLog, reportLogsOnFailure, type Gateway } from "../../rig/gateway.ts";
import { startUpstream, type FakeUpstream } from "../../rig/upstreams.ts";
import { describeOnHost, type HostChoice } from "./hosts.ts";
import { suiteFiles } from "./standin-cases.ts";

const CHAT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };
const INTERVAL_MS = 80;

function instance(name: string, url: string): Record<string, unknown> {
  return { name, provider: "openai-compatible", weight: 1, auth: { header: { "api-key": "k" } }, override: { endpoint: url } };
}

/** An upstream that answers HTTP/1.1 without Content-Length or chunking and ends the body by closing. */
function startCloseDelimited(): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    sock.once("data", () => {
      const body = JSON.stringify({ choices: [{ message: { content: "until close" } }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
      sock.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

async function waitFor(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function aiPathSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 AI path (ai-proxy-multi): disconnects, body filters, keep-alive, framings, flushing", (host) => {
    const files = suiteFiles();
    let gw: Gateway | undefined;
    let drip: FakeUpstream;
    let echo: FakeUpstream;
    let closeDelimited: { server: Server; port: number } | undefined;

    function post(pathname: string, body: unknown, signal?: AbortSignal): Promise<Response> {
      return fetch(`${gw!.url}${pathname}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
    }

    beforeAll(async () => {
      drip = await startUpstream("sse-drip", { events: 6, intervalMs: INTERVAL_MS });
      echo = await startUpstream("echo");
      closeDelimited = await startCloseDelimited();
      const probe = (extra: Record<string, unknown> = {}) => ({ "standin-probe": extra });
      const doc = {
        routes: [
          { id: "stream", uri: "/stream", plugins: { ...probe(), "ai-proxy-multi": { instances: [instance("drip", drip.url)] } } },
          { id: "prefixed", uri: "/prefixed", plugins: { ...probe({ body_prefix: ">" }), "ai-proxy-multi": { instances: [instance("drip", drip.url)] } } },
          { id: "sync-flush", uri: "/sync-flush", plugins: { "ai-proxy-multi": { streaming_flush_interval_ms: 0, instances: [instance("drip", drip.url)] } } },
          { id: "keepalive", uri: "/keepalive", plugins: { "ai-proxy-multi": { instances: [instance("echo", echo.url)] } } },
          { id: "no-keepalive", uri: "/no-keepalive", plugins: { "ai-proxy-multi": { keepalive: false, instances: [instance("echo", echo.url)] } } },
          { id: "until-close", uri: "/until-close", plugins: { "ai-proxy-multi": { instances: [instance("close", `http://127.0.0.1:${closeDelimited.port}`)] } } },
        ],
      };
      gw = await host.start({ apisixYaml: files.write("apisix.yaml", doc), luaPaths: files.luaPaths });
    });

    afterAll(async () => {
      await gw?.stop();
      await drip?.close();
      await echo?.close();
      if (closeDelimited) await new Promise((r) => closeDelimited!.server.close(r));
      files.cleanup();
    });

    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it("a client that disconnects mid-stream makes the gateway stop reading the upstream (ai_stream_aborted)", async () => {
      const before = drip.closedEarly();
      const logStart = gw!.errorLog().length;
      const abort = new AbortController();
      const res = await post("/stream", { ...CHAT, stream: true }, abort.signal);
      const reader = res.body!.getReader();
      await reader.read(); // the first event
      abort.abort();
      await waitFor(() => drip.closedEarly() > before, "the upstream connection to be dropped");
      await waitFor(() => /standin-probe log: aborted=client_disconnect picked=drip/.test(gw!.errorLog().slice(logStart)), "the log phase");
      expectNoErrorLines(gw!);
    });

    it("runs every plugin's lua_body_filter on each raw chunk and prints what it returns", async () => {
      const res = await post("/prefixed", { ...CHAT, stream: true });
      const text = await res.text();
      expect(text.startsWith(">data: ")).toBe(true);
      expect(text.split(">data: ").length - 1).toBeGreaterThanOrEqual(6);
      // the final empty pass runs too (llm_request_done) but an empty chunk is left alone
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    });

    it("keeps event spacing with synchronous per-chunk flushing (streaming_flush_interval_ms: 0)", async () => {
      const started = performance.now();
      const res = await post("/sync-flush", { ...CHAT, stream: true });
      const reader = res.body!.getReader();
      const times: number[] = [];
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
        times.push(performance.now() - started);
      }
      // Median, span and a stall ceiling (tests/scenarios/stream-timing.ts): robust to one late timer under load.
      expect(streamTimingProblems(times, { minChunks: 6, eventIntervalMs: INTERVAL_MS, toleranceMs: 30 })).toEqual([]);
    });

    it("opens one upstream connection per request without keepalive, and reuses one with it (default)", async () => {
      // Order matters: both routes share the host:port pool, so a pooled connection would serve the next route.
      const before = echo.connections();
      for (let i = 0; i < 3; i++) expect((await post("/no-keepalive", CHAT)).status).toBe(200);
      expect(echo.connections() - before).toBe(3);
      const mid = echo.connections();
      for (let i = 0; i < 3; i++) expect((await post("/keepalive", CHAT)).status).toBe(200);
      expect(echo.connections() - mid).toBe(1);
    });

    it("reads a response that has neither Content-Length nor chunking until the upstream closes", async () => {
      const before = parseAccessLog(gw!.accessLog()).length;
      const res = await post("/until-close", CHAT);
      expect(res.status).toBe(200);
      expect((await res.json()) as unknown).toMatchObject({ choices: [{ message: { content: "until close" } }] });
      await waitFor(() => parseAccessLog(gw!.accessLog()).length > before, "the access log line");
      const entry = parseAccessLog(gw!.accessLog()).at(-1)!;
      expect(entry).toMatchObject({ llm_prompt_tokens: "3", llm_completion_tokens: "2", llm_total_tokens: "5" });
    });

    it("logs no [error] lines for all of the above", () => {
      expectNoErrorLines(gw!);
    });
  });
}
