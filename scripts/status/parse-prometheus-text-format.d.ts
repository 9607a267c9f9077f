// The package ships no types; this is the part scripts/lib/prometheus-text.ts uses (histogram and summary families
// never reach it: that module reads them as untyped).
declare module "parse-prometheus-text-format" {
  export interface ParsedFamily {
    name: string;
    help: string;
    /** Upper case: COUNTER, GAUGE, UNTYPED, … */
    type: string;
    /** The value as written ("1", "+Inf", "NaN"); absent only on histogram or summary entries. */
    metrics: Array<{ value?: string; labels?: Record<string, string>; timestamp_ms?: string }>;
  }
  /** Throws an InvalidLineError ("Encountered invalid line: …") on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
