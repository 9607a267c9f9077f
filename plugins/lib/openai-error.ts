/**
 * The one place that builds client-facing error bodies, in the shape the OpenAI and Azure OpenAI SDKs parse:
 * {"error":{"message","type","param","code"}}. `code` is always a string, as Azure sends it.
 */
import * as cjson from "cjson.safe";

export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    param: JsonNull | string;
    code: string;
  };
}

/** `param`: the request parameter (or header) at fault, when one is. */
export function openAiError(this: void, message: string, type: string, code: string, param?: string): OpenAiErrorBody {
  return { error: { message, type, param: param ?? cjson.jsonNull, code } };
}
