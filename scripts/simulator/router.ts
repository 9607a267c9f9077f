/**
 * Route table. Three surfaces:
 *  - "deployments": /openai/deployments/{d}/{op}?api-version=… (api-version required, deployment in the path)
 *  - "v1":          /openai/v1/{op} (deployment from the body's `model`)
 *  - "preview":     /openai/responses?api-version=… and /openai/models (what AzureOpenAI() calls for Responses)
 */
import type { Operation } from "./types.ts";

export type RouteKind =
  | "chat"
  | "completions"
  | "embeddings"
  | "responses"
  | "responses.get"
  | "responses.delete"
  | "responses.cancel"
  | "responses.input_items"
  | "models";

export type Surface = "deployments" | "v1" | "preview";

export interface RouteMatch {
  kind: RouteKind;
  surface: Surface;
  /** Inference operation (POST chat/completions/embeddings/responses). */
  op?: Operation;
  /** From the path, on the deployments surface. */
  deployment?: string;
  responseId?: string;
}

export type RouteResult = RouteMatch | { methodNotAllowed: true } | undefined;

const OPS: Record<string, Operation> = {
  "chat/completions": "chat",
  completions: "completions",
  embeddings: "embeddings",
  responses: "responses",
};

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Routes under a surface prefix: "{op}", "responses/{id}", "responses/{id}/cancel", "responses/{id}/input_items", "models". */
function matchTail(method: string, tail: string, surface: Surface, deployment?: string): RouteResult {
  const op = OPS[tail];
  if (op !== undefined) return method === "POST" ? { kind: op, op, surface, deployment } : { methodNotAllowed: true };
  const parts = tail.split("/");
  if (parts[0] === "responses" && parts.length >= 2 && parts.length <= 3 && parts[1] !== "") {
    const responseId = decode(parts[1]!);
    if (responseId === undefined) return undefined;
    if (parts.length === 3) {
      if (parts[2] === "input_items") return method === "GET" ? { kind: "responses.input_items", surface, deployment, responseId } : { methodNotAllowed: true };
      if (parts[2] !== "cancel") return undefined;
      return method === "POST" ? { kind: "responses.cancel", surface, deployment, responseId } : { methodNotAllowed: true };
    }
    if (method === "GET") return { kind: "responses.get", surface, deployment, responseId };
    if (method === "DELETE") return { kind: "responses.delete", surface, deployment, responseId };
    return { methodNotAllowed: true };
  }
  if (tail === "models" && deployment === undefined) return method === "GET" ? { kind: "models", surface } : { methodNotAllowed: true };
  return undefined;
}

export function matchRoute(method: string, pathname: string): RouteResult {
  const path = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  if (path.startsWith("/openai/v1/")) return matchTail(method, path.slice("/openai/v1/".length), "v1");
  if (path.startsWith("/openai/deployments/")) {
    const rest = path.slice("/openai/deployments/".length);
    const slash = rest.indexOf("/");
    if (slash <= 0) return undefined;
    const deployment = decode(rest.slice(0, slash));
    if (deployment === undefined) return undefined;
    const tail = rest.slice(slash + 1);
    if (tail === "models") return undefined;
    return matchTail(method, tail, "deployments", deployment);
  }
  if (path === "/openai/models" || path === "/openai/responses" || path.startsWith("/openai/responses/")) {
    return matchTail(method, path.slice("/openai/".length), "preview");
  }
  return undefined;
}
