// TEST CODE. Every scenario suite on real APISIX 3.18.0 with one nginx worker (skipped, with the reason, without it).
import { scenariosOnRealApisix } from "../scenarios/on-real-apisix.ts";

await scenariosOnRealApisix(1);
