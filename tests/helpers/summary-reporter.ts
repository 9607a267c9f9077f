/**
 * Prints one plain closing line that CI reads: "tests: N passed, N failed, N skipped", plus the reason of every
 * skipped suite/test (a skip is never counted as a pass).
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedNames: string[] = [];
    for (const mod of testModules) {
      if (mod.state() === "failed" && [...mod.children.allTests()].length === 0) failed++;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else {
          skipped++;
          skippedNames.push(test.fullName);
        }
      }
    }
    failed += unhandledErrors.length;
    const out: string[] = [];
    if (skippedNames.length > 0) {
      out.push("skipped (not counted as passed):");
      for (const name of skippedNames) out.push(`  - ${name}`);
    }
    out.push(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.stdout.write(`\n${out.join("\n")}\n`);
  }
}
