/**
 * Error bodies in Azure OpenAI's shape: {"error":{"code":"…","message":"…",…}}. Messages follow what Azure
 * returns today, so clients and gateways see realistic text.
 */
import type { Operation } from "./types.ts";

export interface ErrorReply {
  status: number;
  body: { error: Record<string, unknown> };
}

function reply(status: number, code: string, message: string, extra: Record<string, unknown> = {}): ErrorReply {
  return { status, body: { error: { code, message, ...extra } } };
}

function invalidRequest(status: number, code: string, message: string, param: string | null = null): ErrorReply {
  return reply(status, code, message, { param, type: "invalid_request_error" });
}

export const unauthorized = (): ErrorReply =>
  reply(
    401,
    "401",
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an " +
      "active subscription and use a correct regional API endpoint for your resource.",
  );

export const resourceNotFound = (): ErrorReply => reply(404, "404", "Resource not found");

export const methodNotAllowed = (): ErrorReply => reply(405, "405", "Method not allowed");

export const deploymentNotFound = (): ErrorReply =>
  reply(
    404,
    "DeploymentNotFound",
    "The API deployment for this resource does not exist. If you created the deployment within the last 5 " +
      "minutes, please wait a moment and try again.",
  );

export const missingApiVersion = (): ErrorReply =>
  reply(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");

export const missingModel = (): ErrorReply =>
  invalidRequest(400, "missing_required_parameter", "Missing required parameter: 'model'.", "model");

export const badJson = (detail: string): ErrorReply =>
  invalidRequest(400, "invalid_json", `We could not parse the JSON body of your request. (${detail})`);

export const bodyTooLarge = (limit: number): ErrorReply =>
  invalidRequest(413, "request_too_large", `The request body is larger than ${limit} bytes.`);

export const missingField = (field: string): ErrorReply =>
  invalidRequest(400, "missing_required_parameter", `Missing required parameter: '${field}'.`, field);

const OPERATION_WORDS: Record<Operation, string> = {
  chat: "chatCompletion",
  completions: "completions",
  embeddings: "embeddings",
  responses: "responses",
};

export const operationNotSupported = (op: Operation, deployment: string): ErrorReply =>
  reply(
    400,
    "OperationNotSupported",
    `The ${OPERATION_WORDS[op]} operation does not work with the specified model, ${deployment}. Please choose ` +
      "different model and try again. You can learn more about which models can be used with each operation " +
      "here: https://go.microsoft.com/fwlink/?linkid=2197993.",
  );

export const responseNotFound = (id: string): ErrorReply =>
  invalidRequest(404, "not_found", `Response with id '${id}' not found.`);

/**
 * A `previous_response_id` this resource does not hold (never created here, deleted, or on another resource): Azure
 * and OpenAI answer 400 with this code, the error a gateway spreading a conversation over resources must recognise.
 */
export const previousResponseNotFound = (id: string): ErrorReply =>
  invalidRequest(400, "previous_response_not_found", `Previous response with id '${id}' not found.`, "previous_response_id");

export const notCancellable = (): ErrorReply =>
  invalidRequest(400, "invalid_request_error", "Only responses created with background=true can be cancelled.");

export const OPERATION_IDS: Record<Operation, string> = {
  chat: "ChatCompletions_Create",
  completions: "Completions_Create",
  embeddings: "Embeddings_Create",
  responses: "Responses_Create",
};

/** Azure's 429 wording; `apiVersion` is "v1" on the /openai/v1 surface. */
export function rateLimited(op: Operation, apiVersion: string, reason: "tokens" | "requests", seconds: number): ErrorReply {
  const limit = reason === "tokens" ? "token rate limit" : "call rate limit";
  return reply(
    429,
    "429",
    `Requests to the ${OPERATION_IDS[op]} Operation under Azure OpenAI API version ${apiVersion} have exceeded ` +
      `${limit} of your current OpenAI S0 pricing tier. Please retry after ${seconds} second${seconds === 1 ? "" : "s"}. ` +
      "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
  );
}

const FAULT_DEFAULTS: Record<number, [string, string]> = {
  429: ["429", "Requests to the Azure OpenAI API have exceeded the rate limit of your current pricing tier."],
  500: ["InternalServerError", "The server had an error while processing your request. Sorry about that!"],
  502: ["BadGateway", "Bad gateway."],
  503: ["ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."],
  504: ["Timeout", "The operation was timeout."],
};

/** Body of an injected status fault; code/message override the defaults. */
export function faultReply(status: number, code?: string, message?: string): ErrorReply {
  const [defCode, defMessage] = FAULT_DEFAULTS[status] ?? [String(status), `Simulated error ${status}.`];
  return reply(status, code ?? defCode, message ?? defMessage);
}

/** The payload of an in-stream error event (chat `data: {"error":…}`, Responses `error` / `response.failed`). */
export function streamErrorPayload(code?: string, message?: string): { code: string; message: string } {
  return {
    code: code ?? "server_error",
    message: message ?? "The server had an error while processing your request. Sorry about that!",
  };
}
