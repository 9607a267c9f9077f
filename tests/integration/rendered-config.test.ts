// TEST CODE. The renderer's own output, loaded unchanged by the nginx stand-in of APISIX and driven through the
// official openai SDK (cases: shared/rendered-config-cases.ts).
import { renderedConfigSuite } from "./shared/rendered-config-cases.ts";
import { standin } from "./shared/hosts.ts";

renderedConfigSuite(standin());
