/**
 * nginx answers some requests itself, before any Lua runs, with its HTML error pages: a request header line over
 * large_client_header_buffers (494, sent as "400 Request Header Or Cookie Too Large"), a malformed request line or
 * header (400), an over-long URI (414); and a request whose Lua failed gets its HTML 500. Clients' SDKs expect the
 * OpenAI error shape, so config.yaml's `http_server_configuration_snippet` (APISIX 3.18 apisix/cli/ngx_tpl.lua puts it
 * in the gateway's server block, ahead of `location /`) sends each of those statuses to an internal location that
 * answers a fixed JSON body instead. error_page only applies where nginx itself produces the page: a response that
 * Lua or a backend already gave a body (every answer of our plugins, APISIX's own JSON) is never replaced.
 *
 * Locations by URI, not named (`@x`): nginx refuses a redirect to a named location while the request line is still
 * unparsed ("empty URI in redirect to named location", then its HTML 500), which is exactly the 414 case.
 *
 * large_client_header_buffers stays at nginx's 4 × 8 KiB: real SDK requests carry a few hundred bytes of headers, and
 * a larger buffer would be memory held per connection for nothing.
 */

interface NginxError {
  /** The status nginx produces internally. */
  status: number;
  /** The status the client gets (494 has no standard meaning; 431 is the one for it, RFC 6585). */
  answer: number;
  type: "invalid_request_error" | "server_error";
  message: string;
}

/** Also the answer of the catch-all route (renderer/routes.ts). */
export const NOT_FOUND_MESSAGE = "Not found: this gateway serves no such path, or not with this method.";

/** Where the pages live: internal locations, so a client asking for one gets the 404 page. */
export const ERROR_PAGE_PREFIX = "/spillway-error/";

export const NGINX_ERRORS: readonly NginxError[] = [
  { status: 400, answer: 400, type: "invalid_request_error", message: "The request is not valid HTTP." },
  { status: 404, answer: 404, type: "invalid_request_error", message: NOT_FOUND_MESSAGE },
  { status: 408, answer: 408, type: "invalid_request_error", message: "The request was not received in time." },
  { status: 411, answer: 411, type: "invalid_request_error", message: "The request needs a Content-Length." },
  { status: 413, answer: 413, type: "invalid_request_error", message: "The request body is too large." },
  { status: 414, answer: 414, type: "invalid_request_error", message: "The request URI is too long: at most 8 KiB." },
  { status: 494, answer: 431, type: "invalid_request_error", message: "A request header is too large: at most 8 KiB per header line." },
  { status: 500, answer: 500, type: "server_error", message: "The gateway failed to handle the request." },
  { status: 501, answer: 501, type: "invalid_request_error", message: "The request uses an HTTP feature the gateway does not support." },
  { status: 502, answer: 502, type: "server_error", message: "The gateway could not get a response from a backend." },
  { status: 503, answer: 503, type: "server_error", message: "The gateway is unavailable." },
  { status: 504, answer: 504, type: "server_error", message: "The gateway timed out waiting for a backend." },
];

/** The body of one error page: the shape of plugins/lib/openai-error.ts (`code` the status, as a string). */
export function errorPageBody(e: NginxError): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: null, code: String(e.answer) } });
}

/**
 * The snippet: one `error_page` and one internal location per status. No `'` in any body (nginx string quoting). The
 * `=status` is what the client gets: nginx keeps the status it started with over the one `return` names (494 would
 * go out as 400).
 */
export function errorPagesSnippet(): string {
  const lines = ["# Spillway: nginx's own error pages as OpenAI-shaped JSON (renderer/error-pages.ts)"];
  for (const e of NGINX_ERRORS) lines.push(`error_page ${e.status} =${e.answer} ${ERROR_PAGE_PREFIX}${e.status};`);
  for (const e of NGINX_ERRORS) {
    lines.push(
      `location = ${ERROR_PAGE_PREFIX}${e.status} {`,
      "    internal;",
      "    default_type application/json;",
      `    return ${e.answer} '${errorPageBody(e)}';`,
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
}
