// stream-error: the in-band error event for a stream that broke after commit, under LuaJIT (uses cjson).
import { describe, expect, it } from "vitest";
import { callLuaBatch } from "../helpers/lua.ts";

const MOD = "lib.stream-error";

function call(fn: string, ...args: unknown[]): string {
  const [r] = callLuaBatch([{ module: MOD, fn, args }]);
  if (!r!.ok) throw new Error(r!.err);
  return r!.ret[0] as string;
}

/** Parses one SSE event the way a client does: field lines, then the data as JSON. */
function parseEvent(text: string): { event?: string; data: unknown } {
  expect(text.endsWith("\n\n")).toBe(true);
  const lines = text.slice(0, -2).split("\n");
  let event: string | undefined;
  const data: string[] = [];
  for (const line of lines) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
    else throw new Error(`unexpected line ${JSON.stringify(line)}`);
  }
  return { event, data: JSON.parse(data.join("\n")) };
}

describe("stream-error (LuaJIT)", () => {
  it("chat: one data event with the OpenAI error object, fixed key order", () => {
    expect(call("chatStreamError", "The backend stream was interrupted.", "server_error", "502")).toBe(
      'data: {"error":{"message":"The backend stream was interrupted.","type":"server_error","param":null,"code":"502"}}\n\n',
    );
  });

  it("responses: an error event with type, code, message, param and sequence_number", () => {
    expect(call("responsesStreamError", "Interrupted", "server_error", 17)).toBe(
      'event: error\ndata: {"type":"error","code":"server_error","message":"Interrupted","param":null,"sequence_number":17}\n\n',
    );
    expect(call("responsesStreamError", "Interrupted", "server_error")).toBe(
      'event: error\ndata: {"type":"error","code":"server_error","message":"Interrupted","param":null}\n\n',
    );
  });

  it("escapes quotes, newlines and control bytes so the event stays one well-formed frame", () => {
    const message = 'bad "thing"\nwith\r\nnewlines\\ and / \u0001 and é';
    for (const protocol of ["chat", "responses"]) {
      const text = call("formatStreamError", protocol, message, "server_error", "502", 3);
      expect(text.split("\n\n")).toHaveLength(2); // exactly one frame
      const parsed = parseEvent(text);
      if (protocol === "chat") {
        expect(parsed).toEqual({ event: undefined, data: { error: { message, type: "server_error", param: null, code: "502" } } });
      } else {
        expect(parsed).toEqual({ event: "error", data: { type: "error", code: "502", message, param: null, sequence_number: 3 } });
      }
    }
  });
});
