// entra-token: where to ask for a managed-identity token, what the answer means, and when to refresh it, in Node
// and under LuaJIT (the same expectations on both hosts).
import * as entra from "../../plugins/lib/entra-token.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const NOW = 1_768_000_000_000;
const S = 1000;
const MODULE = "lib.entra-token";
const RESOURCE = "resource=https%3A%2F%2Fcognitiveservices.azure.com";
const CLIENT = "11111111-2222-3333-4444-555555555555";
const ACA = { kind: "container-apps", endpoint: "http://localhost:42356/msi/token", header: "hdr-secret" };
const IMDS = { kind: "imds", base: "http://169.254.169.254" };

const entry = (token: string, expiresAt: number, refreshAt: number, usableUntil: number) =>
  ({ token, expires_at_ms: expiresAt, refresh_at_ms: refreshAt, usable_until_ms: usableUntil });
const ok = (e: object) => ({ ok: true, entry: e });
const bad = (reason: string) => ({ ok: false, reason });
const c = (name: string, args: unknown[], expected: unknown): DualCase => ({ name, args, expected });

dualHost("identitySource", MODULE, "identitySource", entra.identitySource, [
  c("Container Apps: endpoint and header", [ACA.endpoint, "hdr-secret", undefined], ACA),
  c("endpoint without header: IMDS", [ACA.endpoint, undefined, undefined], IMDS),
  c("empty values count as unset", ["", "", ""], IMDS),
  c("nothing set: IMDS at 169.254.169.254", [undefined, undefined, undefined], IMDS),
  c("tests may move IMDS (trailing slashes dropped)", [undefined, undefined, "http://127.0.0.1:4567//"], { kind: "imds", base: "http://127.0.0.1:4567" }),
  c("Container Apps wins over the test IMDS", [ACA.endpoint, "h", "http://127.0.0.1:4567"], { ...ACA, header: "h" }),
]);

dualHost("tokenRequest", MODULE, "tokenRequest", entra.tokenRequest, [
  c("Container Apps, system-assigned", [ACA, undefined], {
    url: `http://localhost:42356/msi/token?${RESOURCE}&api-version=2019-08-01`, header_name: "X-IDENTITY-HEADER", header_value: "hdr-secret",
  }),
  c("Container Apps, user-assigned", [ACA, CLIENT], {
    url: `http://localhost:42356/msi/token?${RESOURCE}&api-version=2019-08-01&client_id=${CLIENT}`, header_name: "X-IDENTITY-HEADER", header_value: "hdr-secret",
  }),
  c("an endpoint that already has a query", [{ ...ACA, endpoint: "http://x/token?a=1" }, undefined], {
    url: `http://x/token?a=1&${RESOURCE}&api-version=2019-08-01`, header_name: "X-IDENTITY-HEADER", header_value: "hdr-secret",
  }),
  c("IMDS, system-assigned", [IMDS, undefined], {
    url: `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&${RESOURCE}`, header_name: "Metadata", header_value: "true",
  }),
  c("IMDS, user-assigned", [IMDS, CLIENT], {
    url: `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&${RESOURCE}&client_id=${CLIENT}`, header_name: "Metadata", header_value: "true",
  }),
  c("an empty client id is none", [IMDS, ""], {
    url: `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&${RESOURCE}`, header_name: "Metadata", header_value: "true",
  }),
]);

const HOUR = entry("tok", NOW + 3600 * S, NOW + 3600 * S - 360 * S, NOW + 3600 * S - 30 * S);
dualHost("parseTokenResponse", MODULE, "parseTokenResponse", entra.parseTokenResponse, [
  c("expires_on as a string (Container Apps, IMDS)", [{ access_token: "tok", expires_on: "1768003600", token_type: "Bearer" }, NOW], ok(HOUR)),
  c("expires_on as a number", [{ access_token: "tok", expires_on: 1768003600 }, NOW], ok(HOUR)),
  c("expires_in as a string", [{ access_token: "tok", expires_in: "3600" }, NOW], ok(HOUR)),
  c("expires_in as a number", [{ access_token: "tok", expires_in: 3600 }, NOW], ok(HOUR)),
  c("expires_on wins over expires_in", [{ access_token: "tok", expires_on: "1768003600", expires_in: "60" }, NOW], ok(HOUR)),
  c("a date-string expires_on (old App Service API) falls back to expires_in",
    [{ access_token: "tok", expires_on: "11/05/2021 15:18:46 +00:00", expires_in: "3599" }, NOW],
    ok(entry("tok", NOW + 3599 * S, NOW + 3599 * S - 359900, NOW + 3599 * S - 30 * S))),
  c("24 h token: refresh 2.4 h ahead, keep 30 s in hand", [{ access_token: "tok", expires_in: 86400 }, NOW],
    ok(entry("tok", NOW + 86400 * S, NOW + 86400 * S - 8640 * S, NOW + 86400 * S - 30 * S))),
  c("short token: refresh at half its life, keep 5 % in hand", [{ access_token: "tok", expires_in: "4" }, NOW],
    ok(entry("tok", NOW + 4000, NOW + 2000, NOW + 3800))),
  c("a ten-year claim is treated as 48 h", [{ access_token: "tok", expires_in: "315360000" }, NOW],
    ok(entry("tok", NOW + 172800 * S, NOW + 172800 * S - 17280 * S, NOW + 172800 * S - 30 * S))),
  c("token_type in any case", [{ access_token: "tok", expires_in: 3600, token_type: "bearer" }, NOW], ok(HOUR)),
  c("a JWT with dots, dashes and underscores", [{ access_token: "eyJ0.eXA-_x.sig", expires_in: 3600 }, NOW], ok({ ...HOUR, token: "eyJ0.eXA-_x.sig" })),
  c("already expired", [{ access_token: "tok", expires_on: "1767999999" }, NOW], bad("the token has already expired")),
  c("expires exactly now", [{ access_token: "tok", expires_in: 0 }, NOW], bad("the token has already expired")),
  c("no expiry at all", [{ access_token: "tok" }, NOW], bad("the answer has no usable expires_on or expires_in")),
  c("negative or garbage expiry", [{ access_token: "tok", expires_in: "-5", expires_on: "soon" }, NOW], bad("the answer has no usable expires_on or expires_in")),
  c("no access_token", [{ expires_in: 3600 }, NOW], bad("the answer has no access_token")),
  c("empty access_token", [{ access_token: "", expires_in: 3600 }, NOW], bad("the answer has no access_token")),
  c("access_token that is not a string", [{ access_token: 42, expires_in: 3600 }, NOW], bad("the answer has no access_token")),
  c("a token with a space would break the header", [{ access_token: "a b", expires_in: 3600 }, NOW], bad("the access_token is not a plain header value")),
  c("a token with a newline", [{ access_token: "a\r\nx-evil: 1", expires_in: 3600 }, NOW], bad("the access_token is not a plain header value")),
  c("not a Bearer token", [{ access_token: "tok", expires_in: 3600, token_type: "pop" }, NOW], bad("the token_type is not Bearer")),
  c("not an object", ["<html>gateway timeout</html>", NOW], bad("the answer is not a JSON object")),
  c("nothing", [undefined, NOW], bad("the answer is not a JSON object")),
]);

const E = entry("tok", NOW + 100 * S, NOW + 50 * S, NOW + 95 * S);
dualHost("tokenState", MODULE, "tokenState", entra.tokenState, [
  c("no token", [undefined, NOW], "expired"),
  c("before refresh_at", [E, NOW + 49_999], "fresh"),
  c("at refresh_at", [E, NOW + 50 * S], "refresh"),
  c("just before usable_until", [E, NOW + 94_999], "refresh"),
  c("at usable_until (before the real expiry)", [E, NOW + 95 * S], "expired"),
  c("after expiry", [E, NOW + 200 * S], "expired"),
]);

dualHost("errorDetail", MODULE, "errorDetail", entra.errorDetail, [
  c("error and description", [{ error: "invalid_request", error_description: "Identity not found" }], "invalid_request: Identity not found"),
  c("error only", [{ error: "unauthorized_client" }], "unauthorized_client"),
  c("description only", [{ error_description: "No MSI found" }], "No MSI found"),
  c("control bytes replaced", [{ error: "bad\nline" }], "bad?line"),
  c("long text shortened to 200 bytes", [{ error: "x".repeat(500) }], "x".repeat(200)),
  c("nothing to say", [{ message: "hi" }], undefined),
  c("not an object", ["oops"], undefined),
]);

dualHost("encodeEntry", MODULE, "encodeEntry", entra.encodeEntry, [
  c("numbers in ms, then the token", [E], `${NOW + 50 * S} ${NOW + 95 * S} ${NOW + 100 * S} tok`),
]);

dualHost("decodeEntry", MODULE, "decodeEntry", entra.decodeEntry, [
  c("what encodeEntry wrote", [`${NOW + 50 * S} ${NOW + 95 * S} ${NOW + 100 * S} tok`], E),
  c("missing token", [`${NOW} ${NOW} ${NOW} `], undefined),
  c("missing fields", [`${NOW} ${NOW}`], undefined),
  c("garbage number", [`x ${NOW} ${NOW} tok`], undefined),
  c("empty", [""], undefined),
]);

dualHost("encodeFailure", MODULE, "encodeFailure", entra.encodeFailure, [
  c("retry time and reason", [{ retry_at_ms: NOW + 5000.7, reason: "it answered 500" }], `${NOW + 5000} it answered 500`),
]);

dualHost("decodeFailure", MODULE, "decodeFailure", entra.decodeFailure, [
  c("what encodeFailure wrote", [`${NOW + 5000} it answered 500`], { retry_at_ms: NOW + 5000, reason: "it answered 500" }),
  c("garbage", ["soon it answered 500"], undefined),
  c("no reason", [`${NOW}`], undefined),
]);
