// Responses API: create, stream event sequence, GET / DELETE / cancel / input_items, previous_response_id, surfaces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { KEY, parseSse, post, raw } from "./helpers.ts";

let sim: SimulatorHandle;
const create = (body: Record<string, unknown>, path = "/openai/v1/responses") => post(sim.url, path, { model: "gpt", ...body });
const get = (id: string, method = "GET", path = `/openai/v1/responses/${id}`) => raw(sim.url, path, { method, headers: { "api-key": KEY } });

beforeAll(async () => {
  sim = await startSimulator({
    name: "resp",
    apiKey: KEY,
    latency: { streamIntervalMs: 0 },
    deployments: { gpt: { model: "gpt-4.1-mini", tpm: 1_000_000 }, slow: { model: "gpt-4.1-mini", latency: { perTokenMs: 50 } } },
  });
});
afterAll(() => sim.stop());

describe("create", () => {
  it("returns a completed response with output text and usage", async () => {
    const r = await create({ input: "Once upon a time", instructions: "Be brief.", max_output_tokens: 6 });
    expect(r.status).toBe(200);
    expect(r.headers["x-ratelimit-remaining-tokens"]).toBe(String(1_000_000 - 6));
    const body = r.json();
    expect(body.id).toMatch(/^resp_/);
    expect(body).toMatchObject({
      object: "response",
      status: "completed",
      model: "gpt-4.1-mini",
      previous_response_id: null,
      output: [{ type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", annotations: [] }] }],
      // "Be brief." (3 tokens) + "Once upon a time" (4).
      usage: { input_tokens: 7, output_tokens: 6, total_tokens: 13, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(body.output[0].content[0].text.split(" ")).toHaveLength(6);
  });

  it("streams the documented event sequence with consecutive sequence numbers and no [DONE]", async () => {
    const r = await create({ input: "hi", stream: true, max_output_tokens: 3 });
    expect(r.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(r.body).not.toContain("[DONE]");
    const frames = parseSse(r.body);
    expect(frames.map((f) => f.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const data = frames.map((f) => JSON.parse(f.data));
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.every((d, i) => d.type === frames[i]!.event)).toBe(true);
    expect(data[0].response).toMatchObject({ status: "in_progress", output: [], usage: null });
    const deltas = data.filter((d) => d.type === "response.output_text.delta");
    expect(deltas[0]).toMatchObject({ output_index: 0, content_index: 0, item_id: data[2].item.id });
    expect(data[7].text).toBe(deltas.map((d) => d.delta).join(""));
    expect(data.at(-1).response).toMatchObject({ status: "completed", usage: { output_tokens: 3 } });
    // The streamed response is stored too.
    expect((await get(data[0].response.id)).json().status).toBe("completed");
  });

  it("answers on the preview route /openai/responses?api-version and the deployments route", async () => {
    const a = await create({ input: "x", max_output_tokens: 1 }, "/openai/responses?api-version=2025-03-01-preview");
    const b = await post(sim.url, "/openai/deployments/gpt/responses?api-version=2025-03-01-preview", { input: "x", max_output_tokens: 1 });
    const c = await create({ input: "x" }, "/openai/responses");
    expect([a.status, b.status, c.status]).toEqual([200, 200, 400]);
    expect((await get(a.json().id, "GET", `/openai/responses/${a.json().id}?api-version=2025-03-01-preview`)).status).toBe(200);
  });
});

describe("stored responses", () => {
  it("GETs and DELETEs a stored response, then 404s in Azure's shape", async () => {
    const id = (await create({ input: "hi", max_output_tokens: 2 })).json().id;
    const got = await get(id);
    expect(got.status).toBe(200);
    expect(got.json()).toMatchObject({ id, status: "completed" });
    const del = await get(id, "DELETE");
    expect(del.json()).toEqual({ id, object: "response", deleted: true });
    const gone = await get(id);
    expect(gone.status).toBe(404);
    expect(gone.json().error).toMatchObject({ code: "not_found", message: expect.stringContaining(id) });
    expect((await get(id, "DELETE")).status).toBe(404);
  });

  it("does not store when store is false", async () => {
    const id = (await create({ input: "hi", store: false, max_output_tokens: 1 })).json().id;
    expect((await get(id)).status).toBe(404);
  });

  it("chains previous_response_id, carrying its tokens into input_tokens", async () => {
    const first = (await create({ input: "Once upon a time", max_output_tokens: 5 })).json();
    const second = (await create({ input: "Once upon a time", max_output_tokens: 5, previous_response_id: first.id })).json();
    expect(second.previous_response_id).toBe(first.id);
    expect(second.usage.input_tokens).toBe(first.usage.total_tokens + first.usage.input_tokens);
  });

  it("answers Azure's 400 previous_response_not_found for a previous_response_id it does not hold", async () => {
    const r = await create({ input: "x", previous_response_id: "resp_missing" });
    expect(r.status).toBe(400);
    expect(r.json().error).toEqual({
      code: "previous_response_not_found",
      message: "Previous response with id 'resp_missing' not found.",
      param: "previous_response_id",
      type: "invalid_request_error",
    });
  });

  it("cancels an in-progress background response; refuses to cancel a foreground one", async () => {
    const bg = await post(sim.url, "/openai/v1/responses", { model: "slow", input: "x", background: true, max_output_tokens: 100 });
    expect(bg.json()).toMatchObject({ status: "in_progress", background: true, output: [] });
    const id = bg.json().id;
    const cancel = await get(id, "POST", `/openai/v1/responses/${id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.json().status).toBe("cancelled");
    expect((await get(id)).json().status).toBe("cancelled");

    const fg = (await create({ input: "x", max_output_tokens: 1 })).json().id;
    const refused = await get(fg, "POST", `/openai/v1/responses/${fg}/cancel`);
    expect(refused.status).toBe(400);
    expect((await get("resp_nope", "POST", "/openai/v1/responses/resp_nope/cancel")).status).toBe(404);
  });

  it("completes a background response after its simulated generation time", async () => {
    const bg = (await create({ input: "x", background: true, max_output_tokens: 2 })).json();
    expect(bg.status).toBe("in_progress");
    await new Promise((r) => setTimeout(r, 50));
    const done = (await get(bg.id)).json();
    expect(done).toMatchObject({ status: "completed", usage: { output_tokens: 2 } });
  });

  it("evicts the oldest stored responses beyond the bound", async () => {
    const small = await startSimulator({ name: "bounded", apiKey: KEY, maxStoredResponses: 2, deployments: { gpt: { model: "gpt-4o" } } });
    try {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await post(small.url, "/openai/v1/responses", { model: "gpt", input: "x", max_output_tokens: 1 })).json().id);
      const status = async (id: string) => (await raw(small.url, `/openai/v1/responses/${id}`, { headers: { "api-key": KEY } })).status;
      expect([await status(ids[0]), await status(ids[1]), await status(ids[2])]).toEqual([404, 200, 200]);
    } finally {
      await small.stop();
    }
  });
});

describe("input_items", () => {
  it("lists a response's input items newest first on every surface, oldest first with order=asc", async () => {
    const input = [
      { role: "user", content: "first" },
      { type: "message", role: "user", content: [{ type: "input_text", text: "second" }] },
    ];
    const id = (await create({ input, max_output_tokens: 1 })).json().id;
    const paths = [
      `/openai/v1/responses/${id}/input_items`,
      `/openai/responses/${id}/input_items?api-version=2025-03-01-preview`,
      `/openai/deployments/gpt/responses/${id}/input_items?api-version=2025-03-01-preview`,
    ];
    for (const path of paths) {
      const r = await get(id, "GET", path);
      expect(r.status, path).toBe(200);
      const list = r.json();
      expect(list).toMatchObject({ object: "list", has_more: false });
      expect(list.data.map((i: { content: unknown }) => i.content)).toEqual([input[1]!.content, "first"]);
      expect(list.data.every((i: { id: unknown; type: unknown }) => typeof i.id === "string" && i.type === "message")).toBe(true);
      expect([list.first_id, list.last_id]).toEqual([list.data[0].id, list.data[1].id]);
    }
    const asc = (await get(id, "GET", `/openai/v1/responses/${id}/input_items?order=asc&limit=1`)).json();
    expect(asc.data.map((i: { content: unknown }) => i.content)).toEqual(["first"]);
    expect(asc.has_more).toBe(true);
    expect(sim.stats().byRoute["responses.input_items"]).toBeGreaterThanOrEqual(4);
  });

  it("turns a string input into one user message; 404 for an id it does not hold; 405 for another method", async () => {
    const id = (await create({ input: "just text", max_output_tokens: 1 })).json().id;
    const list = (await get(id, "GET", `/openai/v1/responses/${id}/input_items`)).json();
    expect(list.data).toMatchObject([{ type: "message", role: "user", content: [{ type: "input_text", text: "just text" }] }]);
    expect((await get("resp_nope", "GET", "/openai/v1/responses/resp_nope/input_items")).status).toBe(404);
    expect((await get(id, "POST", `/openai/v1/responses/${id}/input_items`)).status).toBe(405);
    expect((await get(id, "GET", `/openai/responses/${id}/input_items`)).status).toBe(400);
  });
});

describe("holder-only store (each instance is its own Azure resource)", () => {
  it("only the instance that created a response continues it; another answers previous_response_not_found", async () => {
    const other = await startSimulator({ name: "other", apiKey: KEY, deployments: { gpt: { model: "gpt-4o" } } });
    try {
      const first = (await create({ input: "hi", max_output_tokens: 1 })).json();
      const elsewhere = await post(other.url, "/openai/v1/responses", { model: "gpt", input: "and?", previous_response_id: first.id });
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.json().error.code).toBe("previous_response_not_found");
      expect((await raw(other.url, `/openai/v1/responses/${first.id}`, { headers: { "api-key": KEY } })).status).toBe(404);
      expect((await create({ input: "and?", max_output_tokens: 1, previous_response_id: first.id })).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it("applies an injected fault before looking up previous_response_id (e.g. invalid_encrypted_content)", async () => {
    const first = (await create({ input: "hi", max_output_tokens: 1 })).json();
    sim.setFaults([{ kind: "status", status: 400, code: "invalid_encrypted_content", message: "The encrypted content could not be verified.", operations: ["responses"], times: 2 }]);
    try {
      const known = await create({ input: "x", previous_response_id: first.id });
      const unknown = await create({ input: "x", previous_response_id: "resp_missing" });
      expect([known.status, unknown.status]).toEqual([400, 400]);
      expect([known.json().error.code, unknown.json().error.code]).toEqual(["invalid_encrypted_content", "invalid_encrypted_content"]);
    } finally {
      sim.clearFaults();
    }
  });
});
