/**
 * An exhaustion answer (exhaustion.ts) as APISIX sends it: status, OpenAI-shape body, extra headers.
 * Lua only (the body's `param` is cjson.null). Usage in a phase:
 *   const [status, body, headers] = exhaustionResponse(answer);
 *   for (const [k, v] of pairs(headers)) core.response.set_header(k, v);
 *   return $multi(status, body);
 */
import type { ExhaustionAnswer } from "./exhaustion";
import { openAiError } from "./openai-error";
import type { OpenAiErrorBody } from "./openai-error";

export function exhaustionResponse(
  this: void,
  answer: ExhaustionAnswer,
): LuaMultiReturn<[number, OpenAiErrorBody, { [name: string]: string | undefined }]> {
  return $multi(answer.status, openAiError(answer.message, answer.type, answer.code), answer.headers);
}
