/**
 * The one place that builds client-facing error bodies, in the shape the OpenAI and Azure OpenAI SDKs parse:
 * {"error":{"message","type","param","code"}}. `code` is always a string, as Azure sends it.
 */
import * as cjson from "cjson.safe";

export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    param: JsonNull;
    code: string;
  };
}

export function openAiError(this: void, message: string, type: string, code: string): OpenAiErrorBody {
  return { error: { message, type, param: cjson.jsonNull, code } };
}
