// TEST CODE. The router rules and plugin behaviours the stand-in copies (cases: shared/standin-router-cases.ts) on
// real APISIX 3.18.0. Skipped, with the reason in the title, without Docker or APISIX_HOME.
import { defaultRouterSuite, emittedPluginsSuite, parameterRouterSuite } from "./shared/standin-router-cases.ts";
import { realApisix } from "./shared/hosts.ts";

const host = await realApisix(1);
parameterRouterSuite(host);
defaultRouterSuite(host);
emittedPluginsSuite(host);
