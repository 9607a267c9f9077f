// TEST CODE. Every scenario suite on real APISIX 3.18.0 with two nginx workers: cooldowns and affinity live in shared
// dicts and must hold whichever worker takes a request (skipped, with the reason, without APISIX).
import { scenariosOnRealApisix } from "../scenarios/on-real-apisix.ts";

await scenariosOnRealApisix(2);
