/**
 * Whether a backend's error says it does not hold the state a Responses request refers to: Azure (like OpenAI)
 * answers 400 `previous_response_not_found` for a `previous_response_id` created on another resource, and 400
 * `invalid_encrypted_content` for reasoning items encrypted by another resource. Older and preview surfaces answer
 * 404 naming `param: "previous_response_id"`. Another backend (the holder) may answer the same request.
 * Portable TS (Lua and JS alike): plain substring tests, no JSON decoding.
 *
 * A false positive (the code quoted in some other field) costs one extra call to the backend that holds the
 * previous response, which is where the request belonged anyway; a false negative relays the error as before.
 */

/** Quoted, so that a message or param mentioning the words does not match them. */
const NOT_HELD_CODES = ['"previous_response_not_found"', '"invalid_encrypted_content"'];
const PREVIOUS_PARAM = '"previous_response_id"';

/** The error code (without quotes) that says "not held here", or undefined. `body` is the raw error body. */
export function notHeldHere(this: void, status: number, body: string): string | undefined {
  if (status !== 400 && status !== 404) return undefined;
  for (const code of NOT_HELD_CODES) {
    if (body.indexOf(code) >= 0) return code.slice(1, -1);
  }
  if (status === 404 && body.indexOf(PREVIOUS_PARAM) >= 0) return "not_found";
  return undefined;
}
