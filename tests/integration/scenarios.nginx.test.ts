// TEST CODE. Every scenario suite on host (a): the nginx + http-lua stand-in of APISIX 3.18 (tests/host).
import { nginxHost } from "../scenarios/hosts/nginx.ts";
import { ALL_SUITES } from "../scenarios/on-real-apisix.ts";
import { runScenarioSuites } from "../scenarios/run.ts";

runScenarioSuites(nginxHost, ALL_SUITES);
