/**
 * What the demo changes before handing the rendered files to the nginx test stand-in, printed as it happens: the
 * stand-in does not model APISIX's `mocking` (our /healthz) or `prometheus` plugins, and would reject every route
 * that names one. Routing, auth, failover and the provider — what the demo shows — are untouched.
 */
import { parse } from "yaml";
import { HEADER, toYaml, type Rendered } from "../../renderer/render.ts";

export const NOT_MODELLED = ["mocking", "prometheus"] as const;

type Obj = Record<string, unknown>;

export function adaptForStandin(rendered: Rendered): { rendered: Rendered; leftOut: string[] } {
  const apisix = parse(rendered.apisixYaml, { version: "1.1" }) as Obj;
  const leftOut: string[] = [];
  const routes = (apisix.routes as Obj[]).filter((route) => {
    const plugins = route.plugins as Obj;
    if (plugins.mocking !== undefined) {
      leftOut.push(`route ${String(route.id)} (answered by the mocking plugin)`);
      return false;
    }
    return true;
  });
  if (routes.some((r) => (r.plugins as Obj).prometheus !== undefined)) leftOut.push("the prometheus plugin (metrics) on every route");
  for (const route of routes) delete (route.plugins as Obj).prometheus;
  apisix.routes = routes;
  const config = parse(rendered.configYaml) as Obj;
  config.plugins = (config.plugins as string[]).filter((p) => !(NOT_MODELLED as readonly string[]).includes(p));
  return {
    rendered: { apisixYaml: `${HEADER}${toYaml(apisix)}#END\n`, configYaml: `${HEADER}${toYaml(config)}` },
    leftOut,
  };
}
