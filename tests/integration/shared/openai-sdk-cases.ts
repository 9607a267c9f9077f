/**
 * TEST CODE. Issue 3's proof with a real client: the official `openai` npm SDK, both its OpenAI client (/openai/v1)
 * and its Azure client (deployments + api-version), through the gateway while the highest-priority backend answers
 * 429 to everything. Chat, streamed chat, embeddings, and Responses (create, stream, retrieve, delete) must all
 * complete, and the client must never see a 429. Host-agnostic: openai-sdk{,.apisix,.apisix-2w}.test.ts run it on
 * the nginx stand-in and on real APISIX with 1 and 2 workers (whose cooldowns and affinity must be shared).
 */
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { simulatorInstances, writeProviderConfig, type ProviderConfig } from "../../helpers/provider-config.ts";
import { reportLogsOnFailure, severeLines, type Gateway } from "../../rig/gateway.ts";
import { describeOnHost, fromEveryWorker, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const SIM_KEY = "sim-key-0123456789";
const CLIENT_KEY = "client-key-0123456789abcdef";
const API_VERSION = "2025-03-01-preview";
const DEPLOYMENTS = { "gpt-4o": { model: "gpt-4o" }, "text-embedding-3-small": { model: "text-embedding-3-small" } };

function writeConfig(sims: SimulatorHandle[]): ProviderConfig {
  const instances = simulatorInstances(sims, SIM_KEY);
  const backends = sims.map((s, i) => ({ name: s.name, endpoint: s.url, priority: 10 - i * 10, auth: { header: { "api-key": SIM_KEY } } }));
  const auth = { "azure-openai-auth": {} };
  const routes = [
    {
      id: "ai",
      methods: ["POST"],
      uris: [
        "/openai/v1/chat/completions",
        "/openai/v1/embeddings",
        "/openai/v1/responses",
        "/openai/responses",
        "/openai/deployments/*",
      ],
      plugins: {
        ...auth,
        "spillway-failover": {},
        "ai-proxy-multi": { fallback_strategy: ["http_429", "http_5xx"], streaming_flush_interval_ms: 0, instances },
      },
    },
    {
      id: "bodyless",
      methods: ["GET", "DELETE", "POST"],
      uris: ["/openai/v1/responses/*", "/openai/responses/*", "/openai/v1/models"],
      plugins: { ...auth, "spillway-failover": { backends } },
    },
  ];
  const consumers = [{ username: "sdk", plugins: { "azure-openai-auth": { key: CLIENT_KEY } } }];
  return writeProviderConfig({ routes, consumers });
}

export function openaiSdkSuite(choice: HostChoice): void {
  describeOnHost(choice, "official openai SDK through the gateway while the primary backend answers 429", (host) => {
    let sims: SimulatorHandle[];
    let files: ProviderConfig;
    let gw: Gateway;
    let openai: OpenAI;
    let azure: AzureOpenAI;

    beforeAll(async () => {
      sims = await startSimulators(["throttled", "spare"].map((name) => ({
        name,
        apiKey: SIM_KEY,
        deployments: DEPLOYMENTS,
        latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 5 },
      })));
      sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 60_000 }]);
      files = writeConfig(sims);
      gw = await host.start(files);

      // maxRetries 0: any 429 the gateway let through would fail the test instead of being retried by the SDK.
      openai = new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: NEW_CONNECTION });
      azure = azureClient("gpt-4o");
    });

    afterAll(async () => {
      await gw?.stop();
      await stopSimulators(sims ?? []);
      files?.cleanup();
    });

    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    const azureClient = (deployment: string): AzureOpenAI =>
      new AzureOpenAI({ endpoint: gw.url, apiKey: CLIENT_KEY, apiVersion: API_VERSION, deployment, maxRetries: 0, defaultHeaders: NEW_CONNECTION });

    it("chat (OpenAI client, /openai/v1)", async () => {
      const { data, response } = await openai.chat.completions
        .create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 5 })
        .withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      expect(response.headers.get("x-gw-backend")).toBe("spare");
    });

    it("chat (Azure client, /openai/deployments/{d}?api-version)", async () => {
      const res = await azure.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 5 });
      expect(res.object).toBe("chat.completion");
      expect(res.usage?.total_tokens).toBeGreaterThan(0);
    });

    it("streamed chat, with usage (both clients)", async () => {
      for (const client of [openai, azure] as OpenAI[]) {
        const stream = await client.chat.completions.create({
          model: "gpt-4o",
          messages: [{ role: "user", content: "hi" }],
          max_tokens: 6,
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = "";
        let usage: OpenAI.CompletionUsage | undefined | null;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta?.content ?? "";
          if (chunk.usage) usage = chunk.usage;
        }
        expect(text.length).toBeGreaterThan(0);
        expect(usage?.completion_tokens).toBeGreaterThan(0);
      }
    });

    it("embeddings (both clients)", async () => {
      const a = await openai.embeddings.create({ model: "text-embedding-3-small", input: "hello" });
      expect(a.data[0]!.embedding.length).toBeGreaterThan(0);
      const b = await azureClient("text-embedding-3-small").embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
      expect(b.data).toHaveLength(2);
    });

    it("Responses: create, stream, retrieve, delete (OpenAI client)", async () => {
      const created = await openai.responses.create({ model: "gpt-4o", input: "hi", max_output_tokens: 5 });
      expect(created.status).toBe("completed");
      const stream = await openai.responses.create({ model: "gpt-4o", input: "hi", max_output_tokens: 5, stream: true });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types[0]).toBe("response.created");
      expect(types).toContain("response.completed");
      const fetched = await openai.responses.retrieve(created.id);
      expect(fetched.id).toBe(created.id);
      await openai.responses.delete(created.id);
      await expect(openai.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    });

    it("Responses: create and retrieve (Azure client, /openai/responses?api-version)", async () => {
      const created = await azure.responses.create({ model: "gpt-4o", input: "hi", max_output_tokens: 5 });
      expect(created.status).toBe("completed");
      const fetched = await azure.responses.retrieve(created.id);
      expect(fetched.id).toBe(created.id);
    });

    it("every worker skips the cooling backend: chat answered by the spare on the first attempt", async () => {
      const throttledCalls = sims[0]!.stats().total;
      const workers = await fromEveryWorker(gw, host.workers, () => openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 3 }).withResponse(), ({ response }) => {
        expect(response.headers.get("x-gw-backend")).toBe("spare");
        expect(response.headers.get("x-gw-attempts")).toBe("1");
      });
      expect(workers, "workers that answered").toBe(host.workers);
      expect(sims[0]!.stats().total - throttledCalls).toBe(0);
    });

    it("every worker finds a response at the backend that holds it, without asking the other first", async () => {
      const created = await openai.responses.create({ model: "gpt-4o", input: "hi", max_output_tokens: 5 });
      const throttledCalls = sims[0]!.stats().total;
      const workers = await fromEveryWorker(gw, host.workers, () => openai.responses.retrieve(created.id).withResponse(), ({ data, response }) => {
        expect(data.id).toBe(created.id);
        expect(response.headers.get("x-gw-backend")).toBe("spare");
      });
      expect(workers, "workers that answered").toBe(host.workers);
      expect(sims[0]!.stats().total - throttledCalls).toBe(0);
    });

    it("the throttled backend got one inference call per deployment, then was skipped; no gateway errors", () => {
      // Quota is per deployment: one 429 for gpt-4o, one for the embeddings deployment, none after that. Its other
      // calls are body-less lookups of response ids, which it answers with 404 (the responses live on "spare").
      const posts = sims[0]!.requests().filter((r) => r.method === "POST").map((r) => r.path);
      expect(posts).toEqual(["/openai/v1/chat/completions", "/openai/v1/embeddings"]);
      expect(severeLines(gw.errorLog())).toEqual([]);
    });
  });
}
