// TEST CODE. The stand-in's AI path (tests/host/apisix/plugins/ai-*, standin/httpc.lua) for what the shared
// scenarios cannot express (cases: shared/standin-ai-cases.ts, which standin-ai.apisix.test.ts runs on real APISIX).
import { aiPathSuite } from "./shared/standin-ai-cases.ts";
import { standin } from "./shared/hosts.ts";

aiPathSuite(standin());
