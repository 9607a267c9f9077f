/** TEST CODE. Scenario host (a): Debian nginx + http-lua running the APISIX 3.18 stand-in (tests/host). */
import { startGateway } from "../../rig/nginx.ts";
import type { ScenarioHost } from "../run.ts";

export const nginxHost: ScenarioHost = {
  name: "nginx",
  title: "nginx stand-in",
  start: (opts) => startGateway(opts),
};
