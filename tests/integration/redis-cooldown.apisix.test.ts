// TEST CODE. Two real APISIX 3.18.0 replicas, one nginx worker each, share cooldowns and affinity through Redis
// (cases: shared/redis-cooldown-cases.ts). Skipped, with the reason in the title, without Docker or APISIX_HOME.
import { redisCooldownSuite } from "./shared/redis-cooldown-cases.ts";
import { realApisix } from "./shared/hosts.ts";

redisCooldownSuite(await realApisix(1));
