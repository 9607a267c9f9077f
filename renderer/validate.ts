/**
 * Checks a rendered apisix.yaml document before anything is written: our plugins' confs against the very schema
 * objects the Lua plugins validate with (ajv), APISIX's ai-proxy-multi and resources against ./apisix-shapes.ts.
 * Any failure throws a ConfigError listing all of them (paths and rules only, never values).
 */
import { Ajv, type ValidateFunction } from "ajv";
import { consumerSchema, PLUGIN_NAME as AUTH, schema as authSchema } from "../plugins/azure-openai-auth/schema.ts";
import { PLUGIN_NAME as FAILOVER, PROVIDER_NAME, providerConfSchema, schema as failoverSchema } from "../plugins/spillway-failover/schema.ts";
import { ConfigError } from "../lib/errors.ts";
import { checkAiProxyMulti, checkConsumerName, checkRoute } from "./apisix-shapes.ts";

type Obj = Record<string, unknown>;

let compiled: { auth: ValidateFunction; consumer: ValidateFunction; failover: ValidateFunction; providerConf: ValidateFunction } | undefined;

function validators(): NonNullable<typeof compiled> {
  if (!compiled) {
    // strict: false because the schemas carry APISIX-only keywords (encrypt_fields) that ajv does not know.
    const ajv = new Ajv({ strict: false, allErrors: true });
    compiled = {
      auth: ajv.compile(authSchema),
      consumer: ajv.compile(consumerSchema),
      failover: ajv.compile(failoverSchema),
      providerConf: ajv.compile(providerConfSchema),
    };
  }
  return compiled;
}

function run(fn: ValidateFunction, data: unknown, where: string, out: string[]): void {
  if (fn(structuredClone(data))) return;
  for (const e of fn.errors ?? []) out.push(`${where}${e.instancePath}: ${e.message ?? "is invalid"}`);
}

function checkRoutePlugins(route: Obj, out: string[]): void {
  const v = validators();
  const plugins = (route.plugins ?? {}) as Obj;
  const where = `route ${String(route.id)} plugin `;
  if (plugins[AUTH] !== undefined) run(v.auth, plugins[AUTH], `${where}${AUTH}`, out);
  if (plugins[FAILOVER] !== undefined) run(v.failover, plugins[FAILOVER], `${where}${FAILOVER}`, out);
  const multi = plugins["ai-proxy-multi"];
  if (multi !== undefined) {
    out.push(...checkAiProxyMulti(multi, `${where}ai-proxy-multi`, PROVIDER_NAME));
    const instances = ((multi as Obj).instances ?? []) as Obj[];
    instances.forEach((inst, i) => {
      if (inst.provider === PROVIDER_NAME && inst.provider_conf !== undefined) {
        run(v.providerConf, inst.provider_conf, `${where}ai-proxy-multi/instances/${i}/provider_conf`, out);
      }
    });
  }
}

export function validateRendered(doc: Obj): void {
  const out: string[] = [];
  const routes = (doc.routes ?? []) as Obj[];
  const ids = new Set<string>();
  for (const route of routes) {
    out.push(...checkRoute(route));
    if (ids.has(String(route.id))) out.push(`route ${String(route.id)}: duplicate id`);
    ids.add(String(route.id));
    checkRoutePlugins(route, out);
  }
  for (const consumer of (doc.consumers ?? []) as Obj[]) {
    out.push(...checkConsumerName(String(consumer.username)));
    const conf = (consumer.plugins as Obj | undefined)?.[AUTH];
    run(validators().consumer, conf, `consumer ${String(consumer.username)} plugin ${AUTH}`, out);
  }
  if (out.length > 0) {
    throw new ConfigError([
      "the rendered configuration does not pass the plugin schemas (nothing was written):",
      ...out.map((e) => `  ${e}`),
      "check the variables behind these fields; if none explains it, it is a Spillway bug — please report it",
    ]);
  }
}
