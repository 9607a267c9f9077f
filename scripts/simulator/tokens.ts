/**
 * Token counting (cl100k_base via js-tiktoken) and generated text whose token count is known without encoding.
 * The encoder takes ~0.6 s to build, so it is loaded once per process, on the first startSimulator().
 */
import type { Tiktoken } from "js-tiktoken/lite";

let encoder: Tiktoken | undefined;
let loading: Promise<void> | undefined;

export function loadEncoder(): Promise<void> {
  loading ??= (async () => {
    const [{ Tiktoken: TiktokenClass }, ranks] = await Promise.all([
      import("js-tiktoken/lite"),
      import("js-tiktoken/ranks/cl100k_base"),
    ]);
    encoder = new TiktokenClass(ranks.default);
    filler = FILLER_CANDIDATES.filter((w) => encoder!.encode(w).length === 1 && encoder!.encode(" " + w).length === 1);
  })();
  return loading;
}

/** Tokens in a string; ~chars/4 if the encoder is somehow not loaded yet. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  return encoder ? encoder.encode(text).length : Math.ceil(text.length / 4);
}

/** Text of a message `content`: a string, or the text parts of a multi-part array. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) {
    if (part && typeof part === "object" && "text" in part && typeof part.text === "string") text += part.text;
  }
  return text;
}

/**
 * Chat prompt tokens, OpenAI cookbook rules (as upstream, for gpt-3.5-turbo-0613): 3 per message, the encoded
 * length of every string value, 1 per `name`, and 3 for the reply priming.
 */
export function chatPromptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let n = 3;
  for (const m of messages) {
    if (!m || typeof m !== "object") continue;
    n += 3;
    for (const [key, value] of Object.entries(m as Record<string, unknown>)) {
      n += countTokens(key === "content" ? contentText(value) : typeof value === "string" ? value : "");
      if (key === "name") n += 1;
    }
  }
  return n;
}

/** Prompt tokens of a completions `prompt` or embeddings `input`: string, string[], token array(s). */
export function inputTokens(input: unknown): number {
  if (typeof input === "string") return countTokens(input);
  if (!Array.isArray(input)) return 0;
  if (input.every((x) => typeof x === "number")) return input.length;
  let n = 0;
  for (const item of input) n += typeof item === "string" ? countTokens(item) : Array.isArray(item) ? item.length : 0;
  return n;
}

// Common English words, each a single cl100k token with and without a leading space (checked at load), so a
// text of N words is exactly N tokens.
const FILLER_CANDIDATES = (
  "the and of to in is that for it with as was on be at by this had not are but from or have an they which one " +
  "you were her all she there would their we him been has when who will more no if out so said what up its about " +
  "into than them can only other new some could time these two may then do first any my now such like our over " +
  "man even most made after also did many before must through back years where much your way well down should " +
  "because each just those people how too little state good very make world still own see men work long get here " +
  "between both life being under never day same another know while last might us great old year off come since " +
  "against go came right used take three"
).split(" ");
let filler: string[] = FILLER_CANDIDATES;

/** N words ("first" without a leading space), one token each. Deterministic per seed. */
export function generateWords(count: number, seed = 0): string[] {
  const words: string[] = new Array<string>(count);
  let x = (Math.imul(seed, 2654435761) + 12345) >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = filler[(x >>> 8) % filler.length]!;
    words[i] = i === 0 ? w : " " + w;
  }
  return words;
}
