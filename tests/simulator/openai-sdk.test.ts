// The official openai npm package (v6) against the simulator: OpenAI on /openai/v1 and AzureOpenAI on the
// deployments / preview routes, for chat, streamed chat, embeddings and responses.
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { KEY } from "./helpers.ts";

let sim: SimulatorHandle;
const API_VERSION = "2025-03-01-preview";

beforeAll(async () => {
  sim = await startSimulator({
    name: "sdk",
    apiKey: KEY,
    latency: { streamIntervalMs: 0 },
    deployments: { "gpt-4o-mini": { model: "gpt-4o-mini" }, "text-embedding-3-small": { model: "text-embedding-3-small" } },
  });
});
afterAll(() => sim.stop());

type Flavour = "OpenAI on /openai/v1" | "AzureOpenAI";

function makeClient(flavour: Flavour, deployment = "gpt-4o-mini"): OpenAI {
  return flavour === "AzureOpenAI"
    ? new AzureOpenAI({ endpoint: sim.url, apiKey: KEY, apiVersion: API_VERSION, deployment, maxRetries: 0 })
    : new OpenAI({ baseURL: `${sim.url}/openai/v1`, apiKey: KEY, maxRetries: 0 });
}

describe.each<Flavour>(["OpenAI on /openai/v1", "AzureOpenAI"])("%s", (flavour) => {
  const client = (): OpenAI => makeClient(flavour);

  it("creates a chat completion", async () => {
    const r = await client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 5 });
    expect(r.choices[0]!.message.content!.split(" ")).toHaveLength(5);
    expect(r.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 });
  });

  it("streams a chat completion with a usage chunk", async () => {
    const stream = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.split(" ")).toHaveLength(4);
    expect(finish).toBe("length");
    expect(usage).toMatchObject({ completion_tokens: 4 });
  });

  it("creates embeddings (the SDK asks for base64 and decodes it)", async () => {
    const r = await makeClient(flavour, "text-embedding-3-small").embeddings.create({ model: "text-embedding-3-small", input: ["hello world", "again"], dimensions: 16 });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]!.embedding).toHaveLength(16);
    expect(r.usage.prompt_tokens).toBe(3);
  });

  it("creates, streams, retrieves and deletes responses", async () => {
    const c = client();
    const created = await c.responses.create({ model: "gpt-4o-mini", input: "Once upon a time", max_output_tokens: 4 });
    expect(created.status).toBe("completed");
    expect(created.output_text.split(" ")).toHaveLength(4);
    const follow = await c.responses.create({ model: "gpt-4o-mini", input: "more", previous_response_id: created.id, max_output_tokens: 2 });
    expect(follow.previous_response_id).toBe(created.id);

    const events: string[] = [];
    const stream = await c.responses.create({ model: "gpt-4o-mini", input: "hi", max_output_tokens: 2, stream: true });
    for await (const e of stream) events.push(e.type);
    expect(events[0]).toBe("response.created");
    expect(events.at(-1)).toBe("response.completed");

    expect((await c.responses.retrieve(created.id)).id).toBe(created.id);
    await c.responses.delete(created.id);
    await expect(c.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it("surfaces a 429 with its Retry-After as an APIError", async () => {
    sim.setFaults([{ kind: "status", status: 429, retryAfterMs: 1500, times: 1 }]);
    try {
      await expect(client().chat.completions.create({ model: "gpt-4o-mini", messages: [] })).rejects.toMatchObject({
        status: 429,
        headers: expect.anything(),
      });
    } finally {
      sim.clearFaults();
    }
  });
});
