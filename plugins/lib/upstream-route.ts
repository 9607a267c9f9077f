/**
 * Where a client request goes on one backend: the upstream path and query, and the body `model` to send.
 * Portable TS (Lua and JS alike). Only the deployment segment (or the body's model) is ever changed.
 *
 *   /openai/deployments/{d}/{op...}   {d} → aliases[d] when the backend maps it; the rest as is
 *   /openai/v1/{...}                  path as is; `model` → aliases[model] when mapped (the body must be
 *                                     rewritten only then: `model` in the result is set only then)
 *   /openai/{other}                   as is, same model rule (e.g. the preview /openai/responses)
 * The query is returned untouched, byte for byte (api-version included). Rejected: anything outside /openai/,
 * empty segments, dot segments and their percent-encodings, encoded slashes and backslashes. The gateway
 * attaches its own credentials upstream, and the same Azure host serves other Cognitive Services APIs, so a
 * path must not be able to climb out of /openai/.
 *
 * Pass the raw request path (before nginx decoding, without the query) so that what is forwarded is what the
 * client sent.
 */
export type RouteKind = "v1" | "deployments" | "other";

/** Client deployment/model name → this backend's deployment name (provider_conf.deployments). */
export interface DeploymentAliases {
  [client: string]: string | undefined;
}

export interface Route {
  ok: true;
  kind: RouteKind;
  path: string;
  query?: string;
  /** Deployment named in the client's path (deployments form only). */
  deployment?: string;
  /** Set only when the body's `model` must be rewritten, to the backend's name. */
  model?: string;
}

export interface RouteRejection {
  ok: false;
  reason: string;
}

const OPENAI_PREFIX = "/openai/";
const DEPLOYMENTS_PREFIX = "/openai/deployments/";
const V1_PREFIX = "/openai/v1/";

/** aliases[name] when it is a non-empty string (typeof: in JS, aliases["constructor"] is a function). */
function alias(this: void, aliases: DeploymentAliases | undefined, name: string): string | undefined {
  if (aliases === undefined) return undefined;
  const mapped = aliases[name];
  return typeof mapped === "string" && mapped !== "" ? mapped : undefined;
}

/** Why a path is refused, or undefined when it is safe to forward. */
export function unsafePathReason(this: void, path: string): string | undefined {
  if (path.slice(0, 8) !== OPENAI_PREFIX) return "only paths under /openai/ are forwarded";
  const slashed = path + "/";
  if (slashed.indexOf("/../") >= 0 || slashed.indexOf("/./") >= 0) return "dot segments are not allowed in the path";
  if (path.indexOf("//") >= 0) return "empty path segments are not allowed";
  const lower = path.toLowerCase();
  if (lower.indexOf("%2e") >= 0 || lower.indexOf("%2f") >= 0 || lower.indexOf("%5c") >= 0 || path.indexOf("\\") >= 0) {
    return "encoded dots, slashes and backslashes are not allowed in the path";
  }
  if (path.indexOf("\0") >= 0 || path.indexOf("?") >= 0 || path.indexOf("#") >= 0) {
    return "the path contains a character that is not allowed";
  }
  return undefined;
}

/** The deployment segment of /openai/deployments/{d}[/...] ("" when empty), or undefined for any other path. */
export function pathDeployment(this: void, path: string): string | undefined {
  if (path.slice(0, 20) !== DEPLOYMENTS_PREFIX) return undefined;
  const rest = path.slice(20);
  const slash = rest.indexOf("/");
  return slash < 0 ? rest : rest.slice(0, slash);
}

/** What a path says, whatever the backend: why it is refused ("" when safe) and its deployment segment. */
interface PathFacts {
  reason: string;
  deployment: string | undefined;
}

/**
 * Facts per raw path, remembered: clients send the same few paths again and again, and checking one costs a dozen
 * string operations. Bounded (ids in Responses paths make paths unbounded): emptied when full.
 */
const MAX_PATHS = 1024;
let knownPaths: { [path: string]: PathFacts | undefined } = {};
let knownPathCount = 0;

function pathFacts(this: void, path: string): PathFacts {
  const known = knownPaths[path];
  // typeof: in JS, knownPaths["constructor"] is Object's.
  if (typeof known === "object") return known;
  const facts: PathFacts = { reason: unsafePathReason(path) ?? "", deployment: pathDeployment(path) };
  if (knownPathCount >= MAX_PATHS) {
    knownPaths = {};
    knownPathCount = 0;
  }
  knownPaths[path] = facts;
  knownPathCount++;
  return facts;
}

/** pathDeployment, remembered per path (see pathFacts): the picker filter asks on every pick. */
export function pathDeploymentCached(this: void, path: string): string | undefined {
  return pathFacts(path).deployment;
}

export function upstreamRoute(
  this: void,
  path: string,
  query: string | undefined,
  aliases: DeploymentAliases | undefined,
  model: string | undefined,
): Route | RouteRejection {
  const facts = pathFacts(path);
  if (facts.reason !== "") return { ok: false, reason: facts.reason };

  const deployment = facts.deployment;
  if (deployment !== undefined) {
    if (deployment === "") return { ok: false, reason: "the deployment name is missing from the path" };
    const mapped = alias(aliases, deployment);
    const upstream = mapped === undefined ? path : DEPLOYMENTS_PREFIX + mapped + path.slice(20 + deployment.length);
    return { ok: true, kind: "deployments", path: upstream, query, deployment };
  }

  const kind: RouteKind = path.slice(0, 11) === V1_PREFIX ? "v1" : "other";
  const mappedModel = model === undefined ? undefined : alias(aliases, model);
  const rewrite = mappedModel !== undefined && mappedModel !== model ? mappedModel : undefined;
  return { ok: true, kind, path, query, model: rewrite };
}

export type ResponsesAction = "retrieve" | "cancel" | "input_items";

export interface ResponsesPath {
  id: string;
  /** "retrieve" covers GET and DELETE /responses/{id} (the method tells them apart). */
  action: ResponsesAction;
}

/**
 * /openai/v1/responses/{id}[/cancel|/input_items], also under /openai/ (preview) and
 * /openai/deployments/{d}/: the response id a body-less Responses call refers to. Undefined for anything else,
 * including POST /responses and /responses/compact (an operation, not an id).
 */
export function parseResponsesPath(this: void, path: string): ResponsesPath | undefined {
  if (unsafePathReason(path) !== undefined) return undefined;
  let start: number;
  const at = path.indexOf("/responses/");
  if (path.slice(0, 21) === "/openai/v1/responses/") {
    start = 21;
  } else if (path.slice(0, 18) === "/openai/responses/") {
    start = 18;
  } else if (path.slice(0, 20) === DEPLOYMENTS_PREFIX && at > 20 && path.indexOf("/", 20) === at) {
    start = at + 11;
  } else {
    return undefined;
  }
  const rest = path.slice(start);
  const slash = rest.indexOf("/");
  const id = slash < 0 ? rest : rest.slice(0, slash);
  if (id === "" || id === "compact") return undefined;
  if (slash < 0) return { id, action: "retrieve" };
  const tail = rest.slice(slash + 1);
  if (tail === "cancel") return { id, action: "cancel" };
  if (tail === "input_items") return { id, action: "input_items" };
  return undefined;
}

export interface Endpoint {
  ok: true;
  scheme: "https" | "http";
  host: string;
  port: number;
}

/**
 * A backend endpoint must be scheme://host[:port] with at most a trailing "/": a path in APISIX's
 * override.endpoint would replace the client's path (apisix-ai-contract.md §1.6), and credentials or a query
 * in it would end up in logs.
 */
export function parseEndpoint(this: void, endpoint: string): Endpoint | RouteRejection {
  let scheme: "https" | "http";
  let rest: string;
  if (endpoint.slice(0, 8) === "https://") {
    scheme = "https";
    rest = endpoint.slice(8);
  } else if (endpoint.slice(0, 7) === "http://") {
    scheme = "http";
    rest = endpoint.slice(7);
  } else {
    return { ok: false, reason: "the endpoint must start with https:// or http://" };
  }
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    if (slash !== rest.length - 1) return { ok: false, reason: "the endpoint must be scheme://host[:port], without a path" };
    rest = rest.slice(0, slash);
  }
  if (rest.indexOf("@") >= 0 || rest.indexOf("?") >= 0 || rest.indexOf("#") >= 0) {
    return { ok: false, reason: "the endpoint must not carry credentials, a query or a fragment" };
  }
  const bracket = rest.indexOf("]");
  const colon = rest.indexOf(":", bracket >= 0 ? bracket : 0);
  let host = rest;
  let port = scheme === "https" ? 443 : 80;
  if (colon >= 0) {
    host = rest.slice(0, colon);
    const digits = rest.slice(colon + 1);
    if (digits === "" || digits.length > 5) return { ok: false, reason: "the endpoint port must be 1-65535" };
    let value = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 48 || c > 57) return { ok: false, reason: "the endpoint port must be 1-65535" };
      value = value * 10 + (c - 48);
    }
    if (value < 1 || value > 65535) return { ok: false, reason: "the endpoint port must be 1-65535" };
    port = value;
  }
  if (host === "") return { ok: false, reason: "the endpoint has no host" };
  return { ok: true, scheme, host, port };
}
