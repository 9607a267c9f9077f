// TEST CODE. Latency-preference routing on real APISIX 3.18.0, 1 worker(s) per replica (shared/preference-cases.ts).
import { preferenceSuite } from "./shared/preference-cases.ts";
import { realApisix } from "./shared/hosts.ts";

preferenceSuite(await realApisix(1));
