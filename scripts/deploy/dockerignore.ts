/**
 * `az acr build` and `docker build` upload the build context (the repo root). This checks that .dockerignore keeps
 * the secrets file and local Terraform state out of it. Minimal .dockerignore semantics: `#` comments, `!`
 * negation (last match wins), leading `/` ignored, `*`, `?`, `**`; a pattern matching a directory excludes its
 * contents.
 */
function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        re += ".*";
        i++;
        if (pattern[i + 1] === "/") i++;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function isIgnored(dockerignore: string, file: string): boolean {
  const rules = dockerignore
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const body = (negate ? l.slice(1) : l).replace(/^\/+/, "").replace(/\/+$/, "");
      return { negate, re: globToRegExp(body) };
    });
  const parts = file.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negate;
  return ignored;
}

/** Problems with the build context for this environment, each saying what to add. */
export function contextProblems(dockerignore: string | null, env: string): string[] {
  const mustExclude = [`config/secrets.${env}.env`, `terraform/state/${env}/00-bootstrap.tfstate`];
  if (dockerignore === null) {
    return [`.dockerignore is missing: image builds would upload ${mustExclude.join(" and ")}. Create it with the lines config/secrets.*.env and terraform/state/`];
  }
  return mustExclude
    .filter((f) => !isIgnored(dockerignore, f))
    .map((f) => `.dockerignore does not exclude ${f}; image builds would upload it. Add a line such as ${f.startsWith("config/") ? "config/secrets.*.env" : "terraform/state/"}`);
}
