// TEST CODE. Entra ID (managed identity) to backends through real APISIX 3.18.0, two nginx workers: one token call
// per node whichever worker a request lands on (cases: shared/entra-cases.ts). Skipped, with the reason in the
// title, without Docker or APISIX_HOME.
import { entraSuite } from "./shared/entra-cases.ts";
import { realApisix } from "./shared/hosts.ts";

entraSuite(await realApisix(2));
