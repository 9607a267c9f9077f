// TEST CODE. Priority lanes and client budgets on real APISIX 3.18.0, two workers per replica (shared/lanes-cases.ts).
import { lanesSuite } from "./shared/lanes-cases.ts";
import { realApisix } from "./shared/hosts.ts";

lanesSuite(await realApisix(2));
