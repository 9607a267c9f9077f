/**
 * Prometheus exposition text (what APISIX serves at /apisix/prometheus/metrics) → flat samples, a scrape over HTTP,
 * and the small sums `spillway status` needs. Parsing is `parse-prometheus-text-format`'s, with its two gaps closed
 * here (see parseExposition).
 */
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";

/**
 * One line of the exposition: the name as written (so a histogram gives `<name>_bucket` samples with an `le` label,
 * `<name>_sum` and `<name>_count`; a summary `<name>` samples with a `quantile` label, `_sum` and `_count`), its
 * labels unescaped (`\"`, `\\`, `\n`), and its value (`+Inf`, `-Inf` and `NaN` included). Timestamps are dropped.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A label must equal one value, or be one of several. */
export type LabelFilter = Record<string, string | readonly string[]>;

/** The gateway did not answer exposition text at the URL. Exit code 1. */
export class ScrapeError extends Error {
  readonly exitCode = 1;
}

/** Text that is not Prometheus exposition text. Exit code 1. */
export class ExpositionError extends Error {
  readonly exitCode = 1;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
/** The package merges a labelled histogram's series into one set of buckets and drops their sums and counts. */
const GROUPED_TYPE = /^#[ \t]+TYPE[ \t]+(\S+)[ \t]+(histogram|summary|gaugehistogram)[ \t\r]*$/gim;
/** Past this, a message quotes the start of an offending line only (it may be a whole HTML page). */
const QUOTE_MAX = 60;

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text);
}

function parseValue(text: string): number | undefined {
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  return FLOAT.test(text) ? Number(text) : undefined;
}

/**
 * Every sample of the text, in order. Histogram and summary families are read as untyped, so each series keeps its
 * own labels (the package would otherwise merge them); a final newline is added when missing (the package drops a
 * last line without one). Throws ExpositionError on a line that is not a sample, a comment or blank.
 */
export function parseExposition(text: string): Sample[] {
  const prepared = text.replace(GROUPED_TYPE, "# TYPE $1 untyped").replace(/\n?$/, "\n");
  let families: ParsedFamily[];
  try {
    families = parsePrometheusTextFormat(prepared);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const line = /^Encountered invalid line: ([^]*)$/.exec(message)?.[1];
    throw new ExpositionError(`not Prometheus exposition text: ${line !== undefined ? `${quote(line)} is not a sample line` : message}`);
  }
  const samples: Sample[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new ExpositionError(`not Prometheus exposition text: ${quote(family.name)} is not a metric name`);
    for (const m of family.metrics) {
      const labels = m.labels ?? {};
      const badLabel = Object.keys(labels).find((l) => !LABEL_NAME.test(l));
      if (badLabel !== undefined) throw new ExpositionError(`not Prometheus exposition text: ${family.name} has a label named ${quote(badLabel)}`);
      const value = parseValue(m.value ?? "");
      if (value === undefined) throw new ExpositionError(`not Prometheus exposition text: ${family.name} has the value ${quote(m.value ?? "")}`);
      samples.push({ name: family.name, labels, value });
    }
  }
  return samples;
}

/** What to check when a scrape fails: the usual causes, in the order they happen. */
function hint(): string {
  return (
    "check that the gateway is running and that this is its metrics address (SPILLWAY_METRICS_HOST:SPILLWAY_METRICS_PORT, " +
    "port 9091 unless changed; not the API port 9080) with the path /apisix/prometheus/metrics, or pass --metrics-url"
  );
}

function reason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** GET the URL and parse it; ScrapeError (naming the URL and what to check) when that fails. */
export async function scrape(url: string, timeoutMs: number, signal?: AbortSignal): Promise<Sample[]> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let body: string;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: { accept: "text/plain" } });
    body = await res.text();
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason;
    const why = timeout.aborted ? `no answer within ${timeoutMs / 1000} s` : reason(err);
    throw new ScrapeError(`cannot scrape ${url} (${why}): ${hint()}`);
  }
  if (!res.ok) throw new ScrapeError(`cannot scrape ${url} (HTTP ${res.status}): ${hint()}`);
  const type = res.headers.get("content-type") ?? "";
  if (/html|json/i.test(type)) throw new ScrapeError(`cannot scrape ${url} (it answered ${type}, not Prometheus text): ${hint()}`);
  try {
    return parseExposition(body);
  } catch (err) {
    if (err instanceof ExpositionError) throw new ScrapeError(`cannot scrape ${url} (${err.message}): ${hint()}`);
    throw err;
  }
}

export function matches(labels: Record<string, string>, filter: LabelFilter | undefined): boolean {
  if (filter === undefined) return true;
  for (const [label, wanted] of Object.entries(filter)) {
    const value = labels[label];
    if (value === undefined) return false;
    if (typeof wanted === "string" ? value !== wanted : !wanted.includes(value)) return false;
  }
  return true;
}

/** The sum of the matching samples; undefined when none matches (so "never reported" differs from 0). */
export function sum(samples: readonly Sample[], name: string, filter?: LabelFilter): number | undefined {
  let total: number | undefined;
  for (const s of samples) if (s.name === name && matches(s.labels, filter)) total = (total ?? 0) + s.value;
  return total;
}

/** The samples of one metric summed per value of one label; samples without that label are left out. */
export function byLabel(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    const value = s.labels[label];
    if (s.name === name && value !== undefined) out.set(value, (out.get(value) ?? 0) + s.value);
  }
  return out;
}

function seriesKey(s: Sample): string {
  return JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * How much a counter grew between two scrapes, summed over the matching series: a series new in `after` counts from
 * 0, one that went down was reset (gateway restart) and counts from 0 again, as Prometheus's increase() does.
 * Undefined when `after` has no matching series.
 */
export function increase(before: readonly Sample[], after: readonly Sample[], name: string, filter?: LabelFilter): number | undefined {
  const earlier = new Map<string, number>();
  for (const s of before) if (s.name === name && matches(s.labels, filter)) earlier.set(seriesKey(s), s.value);
  let total: number | undefined;
  for (const s of after) {
    if (s.name !== name || !matches(s.labels, filter)) continue;
    const prev = earlier.get(seriesKey(s)) ?? 0;
    total = (total ?? 0) + (s.value >= prev ? s.value - prev : s.value);
  }
  return total;
}
