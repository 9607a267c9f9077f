// TEST CODE. Two real APISIX 3.18.0 replicas, two nginx workers each: cooldowns and affinity must cross replicas
// through Redis and workers through the shared dict (cases: shared/redis-cooldown-cases.ts). Skipped, with the
// reason in the title, without Docker or APISIX_HOME.
import { redisCooldownSuite } from "./shared/redis-cooldown-cases.ts";
import { realApisix } from "./shared/hosts.ts";

redisCooldownSuite(await realApisix(2));
