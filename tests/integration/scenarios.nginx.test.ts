// TEST CODE. Every scenario suite on host (a): the nginx + http-lua stand-in of APISIX 3.18 (tests/host).
import { AI_PROXY_SUITES } from "../scenarios/ai-proxy.ts";
import { AUTH_SUITES } from "../scenarios/auth.ts";
import { PROVIDER_SUITES } from "../scenarios/provider.ts";
import { nginxHost } from "../scenarios/hosts/nginx.ts";
import { runScenarioSuites } from "../scenarios/run.ts";

runScenarioSuites(nginxHost, [...AUTH_SUITES, ...AI_PROXY_SUITES, ...PROVIDER_SUITES]);
