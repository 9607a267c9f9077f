// TEST CODE. Responses affinity through Redis trouble, two stand-in replicas (cases: shared/responses-affinity-cases.ts).
import { responsesAffinitySuite } from "./shared/responses-affinity-cases.ts";
import { standin } from "./shared/hosts.ts";

responsesAffinitySuite(standin());
