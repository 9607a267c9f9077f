// Completions usage (plugins/lib/usage.ts), in Node and as transpiled Lua under LuaJIT.
import { completionsUsage, isCompletionsPath } from "../../plugins/lib/usage.ts";
import { dualHost } from "./lib/dual-host.ts";

dualHost("completionsUsage", "lib.usage", "completionsUsage", completionsUsage, [
  {
    name: "reads prompt, completion and total tokens",
    args: [{ usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } }],
    expected: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
  },
  {
    name: "computes a missing total",
    args: [{ usage: { prompt_tokens: 4, completion_tokens: 3 } }],
    expected: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
  },
  { name: "no usage → nothing", args: [{ choices: [] }], expected: null },
  { name: "usage without prompt tokens → nothing", args: [{ usage: { completion_tokens: 3 } }], expected: null },
  { name: "negative counts are not usage", args: [{ usage: { prompt_tokens: -1 } }], expected: null },
  { name: "a string body → nothing", args: ["usage"], expected: null },
]);

dualHost("isCompletionsPath", "lib.usage", "isCompletionsPath", isCompletionsPath, [
  { name: "legacy completions", args: ["/openai/deployments/d/completions"], expected: true },
  { name: "v1 completions", args: ["/openai/v1/completions"], expected: true },
  { name: "chat completions are not", args: ["/openai/v1/chat/completions"], expected: false },
  { name: "embeddings are not", args: ["/openai/v1/embeddings"], expected: false },
  { name: "too short", args: ["completions"], expected: false },
]);
