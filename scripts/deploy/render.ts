/**
 * Text form of a plan: what `--dry-run` prints and what the golden files hold. Placeholders show as
 * <stage.output>; secret files as <temp file with KEY>. A final pass replaces any secret value with *** in case a
 * value ever reached a plan (it should not: plans carry names only).
 */
import type { Action, Plan, TfValue } from "./plan.ts";

const SAFE = /^[\w@%+=:,./-]+$/;

export function showPlaceholders(s: string): string {
  return s
    .replace(/\{\{secret-file:([A-Z0-9_]+)\}\}/g, "<temp file with $1>")
    .replace(/\{\{context:([a-z0-9-]+)\}\}/g, "<staged context of $1>")
    .replace(/\{\{([a-z]+\.[a-z0-9_]+)\}\}/g, "<$1>");
}

function quote(arg: string): string {
  const shown = showPlaceholders(arg);
  if (shown !== arg) return shown.includes(" ") ? `'${shown}'` : shown;
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(tool: string, args: string[]): string {
  return [tool, ...args.map(quote)].join(" ");
}

function showValue(v: TfValue): unknown {
  if (Array.isArray(v)) return v.map(showValue);
  if (v && typeof v === "object") {
    if ("$ref" in v && typeof v.$ref === "string") return `<${v.$ref}, or ${JSON.stringify(v.fallback)} when unset>`;
    if ("$template" in v && typeof v.$template === "string") return showPlaceholders(v.$template);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, showValue(x as TfValue)]));
  }
  return v;
}

function actionLines(a: Action): string[] {
  switch (a.kind) {
    case "run":
      return [`  $ ${commandLine(a.tool, a.args)}${a.captureAs ? `   # outputs -> ${a.captureAs}` : ""}`];
    case "write-tfvars":
      return [`  write ${a.file}`, ...JSON.stringify(showValue(a.values), null, 2).split("\n").map((l) => `    ${l}`)];
    case "sync-secret":
      return a.generateIfMissing
        ? [
            `  $ ${commandLine("az", a.showArgs)}   # exists? then keep it`,
            `  # otherwise a random value is generated into the temp file:`,
            `  $ ${commandLine("az", a.setArgs)}`,
          ]
        : [`  $ ${commandLine("az", a.setArgs)}`];
    case "summary":
      return [`  print ${a.outputs.map((o) => `${a.from}.${o}`).join(", ")}`];
    case "stage-context":
      return [`  stage <staged context of ${a.name}>: a temp copy of the files ${a.dockerfile}.dockerignore lets through (never secrets or state)`];
  }
}

export function redact(text: string, secretValues: string[]): string {
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const v of [...secretValues].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(v).join("***");
  return out;
}

export function formatPlan(plan: Plan, secretValues: string[] = []): string {
  const lines = [`# spillway deploy ${plan.stage} ${plan.env}: ${plan.steps.length} steps`];
  for (const w of plan.warnings) lines.push(`# warning: ${w}`);
  plan.steps.forEach((step, i) => {
    lines.push(`[${i + 1}/${plan.steps.length}] ${step.title}`);
    for (const a of step.actions) lines.push(...actionLines(a));
  });
  return redact(lines.join("\n") + "\n", secretValues);
}
