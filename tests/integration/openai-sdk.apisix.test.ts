// TEST CODE. The official openai SDK through real APISIX 3.18.0, one nginx worker (cases: shared/openai-sdk-cases.ts).
// Skipped, with the reason in the title, without Docker or APISIX_HOME.
import { openaiSdkSuite } from "./shared/openai-sdk-cases.ts";
import { realApisix } from "./shared/hosts.ts";

openaiSdkSuite(await realApisix(1));
