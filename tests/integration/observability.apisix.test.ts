// TEST CODE. Metrics and access-log fields on real APISIX 3.18.0, 1 worker(s) (shared/observability-cases.ts).
import { observabilitySuite } from "./shared/observability-cases.ts";
import { realApisix } from "./shared/hosts.ts";

observabilitySuite(await realApisix(1));
