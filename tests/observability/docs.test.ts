import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { METRICS } from "../../plugins/lib/metric-catalog.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { queryPanels, readDashboard } from "../../scripts/observability/dashboard.ts";

const doc = readFileSync(path.join(repoRoot, "docs", "observability.md"), "utf8");

/** The metrics table's row of one metric: `| \`name\` | type | labels | what |`. */
function row(name: string): string[] | undefined {
  const line = doc.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
  return line?.split("|").slice(1, -1).map((c) => c.trim());
}

describe("docs/observability.md", () => {
  it.each(METRICS.map((m) => [m.name, m] as const))("lists %s with its type and labels", (name, m) => {
    const cells = row(name);
    expect(cells, `no table row for ${name}`).toBeDefined();
    expect(cells![1]).toBe(m.type);
    expect(cells![2]!.split(",").map((l) => l.trim())).toEqual(m.labels);
  });

  it("lists no metric the catalog does not have", () => {
    const documented = [...doc.matchAll(/^\| `(spillway_[a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(METRICS.map((m) => m.name).sort());
  });

  it("gives the histogram buckets the catalog uses", () => {
    for (const m of METRICS.filter((x) => x.type === "histogram")) expect(doc).toContain(`Histogram buckets (seconds): ${m.buckets!.join(", ")}.`);
  });

  it("has a row for every dashboard panel, by its title", () => {
    for (const p of queryPanels(readDashboard())) expect(doc.split("\n"), p.title).toContainEqual(expect.stringMatching(new RegExp(`^\\| ${p.title.replace(/[/()]/g, "\\$&")} \\|`)));
  });
});
