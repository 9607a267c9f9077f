locals {
  names = module.naming.names
  tags  = module.naming.tags

  # E2E backends: one "PTU" tier tried first, two pay-as-you-go instances sharing the fallback tier.
  simulator_list = var.deploy_e2e ? [
    { name = "ptu1", priority = 10, weight = 1 },
    { name = "payg1", priority = 5, weight = 1 },
    { name = "payg2", priority = 5, weight = 1 },
  ] : []

  provisioned = [for i, b in var.provisioned_backends : merge(b, { index = var.backend_index_offset + i })]
  simulators  = [for i, s in local.simulator_list : merge(s, { index = var.backend_index_offset + length(var.provisioned_backends) + i })]

  # A provisioned account without a key (DEPLOY_FOUNDRY_LOCAL_AUTH=false) is called with the backend identity's
  # Entra ID token; its secret env below then has no AZURE_OPENAI_KEY_N, so the gateway holds no key for it.
  provisioned_settings = merge({}, [for b in local.provisioned : {
    "AZURE_OPENAI_AUTH_MODE_${b.index}" = b.key_secret_name == null ? "entra" : "api-key"
    "AZURE_OPENAI_ENDPOINT_${b.index}"  = b.endpoint
    "AZURE_OPENAI_NAME_${b.index}"      = b.name
    "AZURE_OPENAI_PRIORITY_${b.index}"  = tostring(b.priority)
    "AZURE_OPENAI_WEIGHT_${b.index}"    = tostring(b.weight)
  }]...)

  simulator_settings = merge({}, [for s in local.simulators : {
    "AZURE_OPENAI_ENDPOINT_${s.index}" = module.simulator[s.name].url
    "AZURE_OPENAI_NAME_${s.index}"     = "sim-${s.name}"
    "AZURE_OPENAI_PRIORITY_${s.index}" = tostring(s.priority)
    "AZURE_OPENAI_WEIGHT_${s.index}"   = tostring(s.weight)
  }]...)

  platform_settings = merge(
    {
      # Managed identity the renderer's Azure SDK calls use (Key Vault when KEY_VAULT_URI is set).
      AZURE_CLIENT_ID = data.azurerm_user_assigned_identity.gateway.client_id
      # Identity of the Entra ID backends (Cognitive Services OpenAI User on each account, granted by 15-foundry).
      AZURE_OPENAI_MSI_CLIENT_ID = data.azurerm_user_assigned_identity.backend.client_id
    },
    var.telemetry_enabled ? { OTEL_COLLECTOR_ENDPOINT = "127.0.0.1:4318" } : {},
    var.key_vault_watch_interval_seconds > 0 ? { KEY_VAULT_URI = trimsuffix(data.azurerm_key_vault.platform.vault_uri, "/") } : {},
    var.redis_enabled ? {
      SPILLWAY_REDIS_HOST = module.redis[0].host
      SPILLWAY_REDIS_PORT = tostring(module.redis[0].port)
    } : {},
    var.deploy_e2e ? { GATEWAY_E2E_TEST_MODE = "true" } : {},
  )

  gateway_args = var.key_vault_watch_interval_seconds > 0 ? ["--watch", "--interval", tostring(var.key_vault_watch_interval_seconds)] : []

  generated_settings = merge(local.provisioned_settings, local.simulator_settings, local.platform_settings)
  gateway_env        = merge(var.app_settings, local.generated_settings)

  user_secret_env        = { for n in var.secret_names : upper(replace(n, "-", "_")) => n }
  provisioned_secret_env = { for b in local.provisioned : "AZURE_OPENAI_KEY_${b.index}" => b.key_secret_name if b.key_secret_name != null }
  simulator_secret_env   = { for s in local.simulators : "AZURE_OPENAI_KEY_${s.index}" => var.simulator_api_key_secret_name }
  generated_secret_env   = merge(local.provisioned_secret_env, local.simulator_secret_env)
  gateway_secret_env     = merge(local.user_secret_env, local.generated_secret_env)

  # Managed Prometheus remote-write URL of the Azure Monitor workspace's default endpoint and rule.
  dce_id_parts          = split("/", data.azurerm_monitor_workspace.this.default_data_collection_endpoint_id)
  dcr_id_parts          = split("/", data.azurerm_monitor_workspace.this.default_data_collection_rule_id)
  remote_write_endpoint = "${data.azurerm_monitor_data_collection_endpoint.default.metrics_ingestion_endpoint}/dataCollectionRules/${data.azurerm_monitor_data_collection_rule.default.immutable_id}/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24"
}
