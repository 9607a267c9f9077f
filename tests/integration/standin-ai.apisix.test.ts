// TEST CODE. The AI path behaviours the stand-in copies (cases: shared/standin-ai-cases.ts) on real APISIX 3.18.0.
// Skipped, with the reason in the title, without Docker or APISIX_HOME.
import { aiPathSuite } from "./shared/standin-ai-cases.ts";
import { realApisix } from "./shared/hosts.ts";

aiPathSuite(await realApisix(1));
