/**
 * spillway.hook — APISIX's `lua_module_hook` (runs in init_by_lua, before any schema is compiled). It registers
 * our provider name in the shared provider enum of ai-providers/schema.lua, which ai-proxy-multi uses as the
 * `enum` of instances[].provider (apisix-ai-contract.md §1.1). No APISIX file is shadowed.
 */
import * as providerSchema from "apisix.plugins.ai-providers.schema";
import { PROVIDER_NAME } from "../spillway-failover/schema";

const providers = providerSchema.providers;
let known = false;
for (const name of providers) {
  if (name === PROVIDER_NAME) known = true;
}
if (!known) providers.push(PROVIDER_NAME);

export const registered = PROVIDER_NAME;
