// previous-response: which backend errors say "this resource does not hold the previous response", in Node and
// under LuaJIT (the provider asks the holder, or the other backends, after one of these).
import * as previous from "../../plugins/lib/previous-response.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const MOD = "lib.previous-response";

/** Azure's and OpenAI's bodies as they send them (pretty-printed or not). */
const NOT_FOUND = '{"error":{"message":"Previous response with id \'resp_1\' not found.","type":"invalid_request_error","param":"previous_response_id","code":"previous_response_not_found"}}';
const ENCRYPTED = '{\n  "error": {\n    "message": "The encrypted content gAAA...Rg== could not be verified.",\n    "type": "invalid_request_error",\n    "param": null,\n    "code": "invalid_encrypted_content"\n  }\n}';
const LEGACY_404 = '{"error":{"code":"not_found","message":"Response with id \'resp_1\' not found.","param":"previous_response_id","type":"invalid_request_error"}}';
const OTHER_400 = '{"error":{"code":"invalid_request_error","message":"Missing required parameter: \'input\'.","param":"input","type":"invalid_request_error"}}';
const DEPLOYMENT_404 = '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}';
/** The words in a message (e.g. the client's own text echoed back) are not the code. */
const MENTION = '{"error":{"code":"invalid_prompt","message":"previous_response_not_found and invalid_encrypted_content are words here","param":null}}';

const cases: DualCase[] = [
  { name: "400 previous_response_not_found", args: [400, NOT_FOUND], expected: "previous_response_not_found" },
  { name: "404 previous_response_not_found", args: [404, NOT_FOUND], expected: "previous_response_not_found" },
  { name: "400 invalid_encrypted_content, pretty-printed", args: [400, ENCRYPTED], expected: "invalid_encrypted_content" },
  { name: "404 naming param previous_response_id", args: [404, LEGACY_404], expected: "not_found" },
  { name: "400 naming param previous_response_id with another code is not it", args: [400, LEGACY_404.replace('"not_found"', '"x"')], expected: undefined },
  { name: "another 400", args: [400, OTHER_400], expected: undefined },
  { name: "404 DeploymentNotFound", args: [404, DEPLOYMENT_404], expected: undefined },
  { name: "the words unquoted in a message", args: [400, MENTION], expected: undefined },
  { name: "only 400 and 404 count (409)", args: [409, NOT_FOUND], expected: undefined },
  { name: "only 400 and 404 count (500)", args: [500, ENCRYPTED], expected: undefined },
  { name: "empty body", args: [400, ""], expected: undefined },
];

dualHost("notHeldHere", MOD, "notHeldHere", previous.notHeldHere, cases);
