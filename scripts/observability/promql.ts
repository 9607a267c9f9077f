/**
 * A small PromQL scanner: not a parser, just enough structure to name what an expression reads — metric selectors
 * with their label matchers, the label lists of by / without / on / ignoring / group_left / group_right with the
 * metrics each one applies to, and the functions called. tests/observability checks the dashboard and the alert
 * rules against the metric catalog with it. Grafana variables (`$backend`, `$__rate_interval`) are accepted where
 * Grafana puts them: inside strings, range brackets, or standing in for a number.
 */

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Selector {
  /** "" when the selector is only `{…}` without a `__name__` matcher. */
  metric: string;
  matchers: Matcher[];
}

export type GroupingKeyword = "by" | "without" | "on" | "ignoring" | "group_left" | "group_right";

export interface Grouping {
  keyword: GroupingKeyword;
  labels: string[];
  /** Metric names of the selectors the clause works on (the aggregated argument, or both sides of the operator). */
  scope: string[];
}

export interface Scan {
  selectors: Selector[];
  groupings: Grouping[];
  functions: string[];
}

export const AGGREGATIONS = new Set([
  "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
]);
const BINARY_KEYWORDS = new Set(["and", "or", "unless", "atan2", "bool"]);
const VECTOR_MATCHING = new Set<GroupingKeyword>(["on", "ignoring", "group_left", "group_right"]);

type Token =
  | { kind: "ident"; text: string; at: number }
  | { kind: "string" | "number" | "range" | "op" | "var"; text: string; at: number }
  | { kind: "matchers"; matchers: Matcher[]; at: number }
  | { kind: "paren"; items: Token[]; at: number }
  | { kind: "comma"; at: number };

const IDENT = /[A-Za-z_:][A-Za-z0-9_:]*/y;
const NUMBER = /(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)(?:ms|[smhdwy])?(?:[0-9]+(?:ms|[smhdwy]))*|(?:Inf|NaN)(?![A-Za-z0-9_:])/y;
const VARIABLE = /\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_]+)?\}?/y;
const OPERATOR = /==|!=|>=|<=|=~|!~|[-+*/%^<>=@]/y;
const LABEL_OP = /\s*(=~|!~|!=|=)\s*/y;

function fail(expr: string, at: number, what: string): never {
  throw new SyntaxError(`PromQL: ${what} at ${at}: …${expr.slice(at, at + 40)}`);
}

function readString(expr: string, at: number): { value: string; end: number } {
  const quote = expr[at]!;
  let i = at + 1;
  let value = "";
  while (i < expr.length && expr[i] !== quote) {
    if (expr[i] === "\\" && quote !== "`") {
      value += expr[i + 1] ?? "";
      i += 2;
    } else value += expr[i++];
  }
  if (i >= expr.length) fail(expr, at, "unterminated string");
  return { value, end: i + 1 };
}

function sticky(re: RegExp, expr: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(expr)?.[0];
}

function readMatchers(expr: string, at: number): { matchers: Matcher[]; end: number } {
  const matchers: Matcher[] = [];
  let i = at + 1;
  for (;;) {
    while (/[\s,]/.test(expr[i] ?? "")) i++;
    if (expr[i] === "}") return { matchers, end: i + 1 };
    const label = sticky(IDENT, expr, i) ?? fail(expr, i, "label name expected");
    i += label.length;
    LABEL_OP.lastIndex = i;
    const op = LABEL_OP.exec(expr) ?? fail(expr, i, "label matcher operator expected");
    i = LABEL_OP.lastIndex;
    if (!`"'\``.includes(expr[i] ?? "")) fail(expr, i, "label value string expected");
    const { value, end } = readString(expr, i);
    matchers.push({ label, op: op[1] as Matcher["op"], value });
    i = end;
  }
}

/** Tokens with `(…)` nested into paren tokens and `{…}` read as one matcher list. */
function tokenize(expr: string): Token[] {
  const root: Token[] = [];
  const stack: { items: Token[]; at: number }[] = [{ items: root, at: 0 }];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    const items = stack[stack.length - 1]!.items;
    if (/\s/.test(c)) i++;
    else if (c === "#") while (i < expr.length && expr[i] !== "\n") i++;
    else if (c === "(") {
      const paren: Token = { kind: "paren", items: [], at: i };
      items.push(paren);
      stack.push({ items: paren.items, at: i });
      i++;
    } else if (c === ")") {
      if (stack.length === 1) fail(expr, i, "unbalanced )");
      stack.pop();
      i++;
    } else if (c === ",") items.push({ kind: "comma", at: i++ });
    else if (c === "{") {
      const { matchers, end } = readMatchers(expr, i);
      items.push({ kind: "matchers", matchers, at: i });
      i = end;
    } else if (c === "[") {
      const end = expr.indexOf("]", i);
      if (end < 0) fail(expr, i, "unterminated [");
      items.push({ kind: "range", text: expr.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (c === '"' || c === "'" || c === "`") {
      const { value, end } = readString(expr, i);
      items.push({ kind: "string", text: value, at: i });
      i = end;
    } else {
      const text = sticky(NUMBER, expr, i) ?? sticky(VARIABLE, expr, i);
      if (text !== undefined) {
        items.push({ kind: c === "$" ? "var" : "number", text, at: i });
        i += text.length;
        continue;
      }
      const ident = sticky(IDENT, expr, i);
      if (ident !== undefined) {
        items.push({ kind: "ident", text: ident, at: i });
        i += ident.length;
        continue;
      }
      const op = sticky(OPERATOR, expr, i) ?? fail(expr, i, `unexpected ${JSON.stringify(c)}`);
      items.push({ kind: "op", text: op, at: i });
      i += op.length;
    }
  }
  if (stack.length > 1) fail(expr, stack[stack.length - 1]!.at, "unbalanced (");
  return root;
}

/** Label names of a `(a, b)` list. */
function labelList(expr: string, paren: Token | undefined): string[] {
  if (paren?.kind !== "paren") fail(expr, paren?.at ?? expr.length, "label list expected");
  const labels: string[] = [];
  for (const t of paren.items) {
    if (t.kind === "ident") labels.push(t.text);
    else if (t.kind !== "comma") fail(expr, t.at, "label name expected");
  }
  return labels;
}

function metricsIn(items: Token[], out: string[] = []): string[] {
  const scan: Scan = { selectors: [], groupings: [], functions: [] };
  walk("", items, scan, true);
  for (const s of scan.selectors) if (!out.includes(s.metric)) out.push(s.metric);
  return out;
}

function selectorOf(metric: string, matchers: Matcher[]): Selector {
  const name = matchers.find((m) => m.label === "__name__" && m.op === "=");
  return { metric: metric || (name?.value ?? ""), matchers };
}

function walk(expr: string, items: Token[], scan: Scan, quiet = false): void {
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!;
    if (t.kind === "paren") walk(expr, t.items, scan, quiet);
    else if (t.kind === "matchers") scan.selectors.push(selectorOf("", t.matchers));
    else if (t.kind !== "ident") continue;
    else if (AGGREGATIONS.has(t.text) && (items[i + 1]?.kind === "paren" || isGrouping(items[i + 1]))) {
      const clauses: { keyword: GroupingKeyword; labels: string[] }[] = [];
      let j = i + 1;
      if (isGrouping(items[j])) {
        clauses.push({ keyword: (items[j] as { text: GroupingKeyword }).text, labels: labelList(expr, items[j + 1]) });
        j += 2;
      }
      const args = items[j];
      if (args?.kind !== "paren") fail(expr, t.at, `${t.text}: argument expected`);
      if (isGrouping(items[j + 1])) {
        clauses.push({ keyword: (items[j + 1] as { text: GroupingKeyword }).text, labels: labelList(expr, items[j + 2]) });
        j += 2;
      }
      const scope = metricsIn(args.items);
      if (!quiet) for (const c of clauses) scan.groupings.push({ ...c, scope });
      walk(expr, args.items, scan, quiet);
      i = j;
    } else if (VECTOR_MATCHING.has(t.text as GroupingKeyword)) {
      const next = items[i + 1];
      const labels = next?.kind === "paren" ? labelList(expr, next) : [];
      if (!quiet) scan.groupings.push({ keyword: t.text as GroupingKeyword, labels, scope: metricsIn(items) });
      if (next?.kind === "paren") i++;
    } else if (t.text === "by" || t.text === "without") fail(expr, t.at, `${t.text} outside an aggregation`);
    else if (t.text === "offset") i++;
    else if (BINARY_KEYWORDS.has(t.text)) continue;
    else if (items[i + 1]?.kind === "paren") {
      if (!quiet) scan.functions.push(t.text);
    } else {
      const next = items[i + 1];
      scan.selectors.push(selectorOf(t.text, next?.kind === "matchers" ? next.matchers : []));
      if (next?.kind === "matchers") i++;
    }
  }
}

function isGrouping(t: Token | undefined): boolean {
  return t?.kind === "ident" && (t.text === "by" || t.text === "without");
}

/** What one expression reads. Throws SyntaxError on what it cannot scan (unbalanced brackets, a stray character). */
export function scanPromQL(expr: string): Scan {
  const scan: Scan = { selectors: [], groupings: [], functions: [] };
  walk(expr, tokenize(expr), scan);
  return scan;
}

/** Grafana's `label_values(metric, label)` / `label_values(label)` variable query. */
export function parseLabelValues(query: string): { selector?: Selector; label: string } | undefined {
  const m = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query);
  if (!m) return undefined;
  if (m[1] === undefined) return { label: m[2]! };
  const { selectors } = scanPromQL(m[1]);
  if (selectors.length !== 1) throw new SyntaxError(`label_values: one metric selector expected in ${query}`);
  return { selector: selectors[0]!, label: m[2]! };
}
