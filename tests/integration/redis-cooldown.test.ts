// TEST CODE. Two stand-in replicas share cooldowns and affinity through Redis (cases: shared/redis-cooldown-cases.ts).
import { redisCooldownSuite } from "./shared/redis-cooldown-cases.ts";
import { standin } from "./shared/hosts.ts";

redisCooldownSuite(standin());
