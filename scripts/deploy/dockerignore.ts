/**
 * .dockerignore matching, used to stage image build contexts (context.ts) and to check that an ignore file keeps
 * the secrets file and local Terraform state out. Minimal .dockerignore semantics: `#` comments, `!`
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

/**
 * Problems with the ignore file that selects an image's build context, each saying what to do. The stager also
 * refuses secrets and state on its own (context.ts), so this catches a careless ignore file early and loudly.
 */
export function contextProblems(ignoreFile: string, dockerignore: string | null, env: string): string[] {
  const mustExclude = [`config/secrets.${env}.env`, `terraform/state/${env}/00-bootstrap.tfstate`];
  if (dockerignore === null) {
    return [`${ignoreFile} is missing: it lists the files the image build needs (start it with a line "*" and re-include with "!path").`];
  }
  return mustExclude
    .filter((f) => !isIgnored(dockerignore, f))
    .map((f) => `${ignoreFile} lets ${f} into the build context; exclude it (e.g. start the file with a line "*").`);
}
