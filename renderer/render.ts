/**
 * The pure core: (settings, secrets) → the three files. No environment, no filesystem, no clock — the same input
 * gives the same bytes, which is what golden tests and the "unchanged file is not rewritten" rule rely on.
 * Every plugin conf is validated (./validate.ts) before the text is produced.
 */
import { stringify } from "yaml";
import { ConfigError } from "../lib/errors.ts";
import { buildConfig } from "./config-yaml.ts";
import { buildOtelCollector } from "./otel.ts";
import { buildConsumers, buildRoutes } from "./routes.ts";
import type { Secrets, Settings } from "./settings.ts";
import { validateRendered } from "./validate.ts";

export interface Rendered {
  apisixYaml: string;
  configYaml: string;
  /** Present only when telemetry is on (OTEL_COLLECTOR_ENDPOINT). */
  otelYaml?: string;
}

export const HEADER = "# Rendered by `spillway render`. Do not edit: change the environment / Key Vault and render again.\n";

/**
 * YAML 1.1 output because APISIX parses with libyaml (lyaml), where yes/no/on/off are booleans: strings like that
 * get quoted. No anchors/aliases: every route carries its own plugin confs.
 */
export function toYaml(doc: unknown): string {
  return stringify(doc, { version: "1.1", aliasDuplicateObjects: false, lineWidth: 0 });
}

export function buildApisixDoc(settings: Settings, secrets: Secrets): Record<string, unknown> {
  const doc: Record<string, unknown> = { routes: buildRoutes(settings, secrets) };
  const consumers = buildConsumers(settings, secrets);
  if (consumers.length > 0) doc.consumers = consumers;
  const t = settings.telemetry;
  if (t) {
    doc.plugin_metadata = [
      {
        id: "opentelemetry",
        trace_id_source: "random",
        resource: { "service.name": t.serviceName },
        collector: { address: t.collectorAddress, request_timeout: 3 },
      },
    ];
  }
  return doc;
}

export function renderConfig(settings: Settings, secrets: Secrets): Rendered {
  const apisixDoc = buildApisixDoc(settings, secrets);
  validateRendered(apisixDoc);
  // The standalone loader reads the last bytes of the file and requires "#END"; without it the file is ignored.
  const apisixYaml = `${HEADER}${toYaml(apisixDoc)}#END\n`;
  if (apisixYaml.includes("${{")) {
    // APISIX substitutes ${{VAR}} in apisix.yaml before parsing; a value containing it would be rewritten.
    throw new ConfigError(["a value contains ${{, which APISIX would replace with an environment variable when it loads apisix.yaml; remove it"]);
  }
  const rendered: Rendered = { apisixYaml, configYaml: `${HEADER}${toYaml(buildConfig(settings))}` };
  const otel = buildOtelCollector(settings);
  if (otel) rendered.otelYaml = `${HEADER}${toYaml(otel)}`;
  return rendered;
}
