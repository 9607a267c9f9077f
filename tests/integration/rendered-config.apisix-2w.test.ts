// TEST CODE. The renderer's own output on real APISIX 3.18.0 with two nginx workers: the failover cooldown must hold
// whichever worker takes a request (cases: shared/rendered-config-cases.ts). Skipped, with the reason in the title,
// without Docker or APISIX_HOME.
import { renderedConfigSuite } from "./shared/rendered-config-cases.ts";
import { realApisix } from "./shared/hosts.ts";

renderedConfigSuite(await realApisix(2));
