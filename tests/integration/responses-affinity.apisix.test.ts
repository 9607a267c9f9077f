// TEST CODE. Responses affinity through Redis trouble, two real APISIX 3.18.0 replicas with one nginx worker each
// (cases: shared/responses-affinity-cases.ts). Skipped, with the reason in the title, without Docker or APISIX_HOME.
import { responsesAffinitySuite } from "./shared/responses-affinity-cases.ts";
import { realApisix } from "./shared/hosts.ts";

responsesAffinitySuite(await realApisix(1));
