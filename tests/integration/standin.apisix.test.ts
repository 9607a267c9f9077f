// TEST CODE. The APISIX 3.18 behaviours the stand-in copies (request phases, plugin confs, schema messages, reload,
// workers; cases: shared/standin-cases.ts) on real APISIX 3.18.0, so the stand-in's claims are checked against the
// truth. Skipped, with the reason in the title, without Docker or APISIX_HOME.
import { phasesSuite, schemaSuite, workersSuite } from "./shared/standin-cases.ts";
import { realApisix } from "./shared/hosts.ts";

const host = await realApisix(1);
phasesSuite(host);
schemaSuite(host);
workersSuite(host);
