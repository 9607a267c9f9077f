// TEST CODE. The official openai SDK through the nginx stand-in of APISIX (cases: shared/openai-sdk-cases.ts).
import { openaiSdkSuite } from "./shared/openai-sdk-cases.ts";
import { standin } from "./shared/hosts.ts";

openaiSdkSuite(standin());
