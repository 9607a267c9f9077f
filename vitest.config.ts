import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    reporters: ["default", "./tests/helpers/summary-reporter.ts"],
    // Stops the run with one clear message when nginx/LuaJIT/Redis or the built Lua are missing.
    globalSetup: ["./tests/helpers/prerequisites.ts"],
    // Rig suites start nginx, Redis and simulators on loopback; two workers match the 2-core machines.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
