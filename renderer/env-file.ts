/**
 * Reads `.env`-style files (config/appsettings.<env>.env, config/secrets.<env>.env): KEY=value per line,
 * `#` comments, optional `export `, single or double quotes (double quotes understand \n, \", \\).
 * Pure: text in, entries out; errors name the file and line.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../lib/errors.ts";

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?$/;

function unquote(raw: string, where: string): string {
  const value = raw.trim();
  if (value.startsWith('"')) {
    const end = value.lastIndexOf('"');
    if (end === 0) throw new ConfigError([`${where}: unterminated double quote`]);
    return value.slice(1, end).replace(/\\([n"\\])/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  if (value.startsWith("'")) {
    const end = value.lastIndexOf("'");
    if (end === 0) throw new ConfigError([`${where}: unterminated single quote`]);
    return value.slice(1, end);
  }
  const hash = value.search(/\s#/);
  return (hash >= 0 ? value.slice(0, hash) : value).trim();
}

export function parseEnvText(text: string, source = "<env>"): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(#|$)/.test(line)) return;
    const where = `${source}:${i + 1}`;
    const m = LINE.exec(line);
    if (!m) {
      problems.push(`${where}: expected KEY=value`);
      return;
    }
    try {
      out[m[1]!] = unquote(m[2] ?? "", where);
    } catch (err) {
      problems.push(...(err as ConfigError).problems);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([`cannot read env file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseEnvText(text, file);
}
