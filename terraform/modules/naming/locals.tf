locals {
  # Deterministic, so every stack derives the same names without sharing state.
  suffix = substr(sha256(lower("${var.subscription_id}/${var.workload_name}/${var.environment}")), 0, 6)
  base   = "${var.workload_name}-${var.environment}"
  # Key Vault and storage names are capped at 24 characters; the suffix keeps truncated names unique.
  short = "${substr(var.workload_name, 0, 6)}-${substr(var.environment, 0, 4)}"
  flat  = "${substr(var.workload_name, 0, 8)}${substr(var.environment, 0, 4)}"

  names = {
    resource_group_state         = "rg-${local.base}-state"
    resource_group_observability = "rg-${local.base}-obs"
    resource_group_platform      = "rg-${local.base}-platform"
    resource_group_foundry       = "rg-${local.base}-foundry"
    resource_group_workload      = "rg-${local.base}-workload"
    storage_account_state        = "st${local.flat}${local.suffix}"
    log_analytics_workspace      = "log-${local.base}"
    application_insights         = "appi-${local.base}"
    monitor_workspace            = "amw-${local.base}"
    container_registry           = "cr${var.workload_name}${var.environment}${local.suffix}"
    key_vault                    = "kv-${local.short}-${local.suffix}"
    virtual_network              = "vnet-${local.base}"
    subnet_container_apps        = "snet-aca"
    subnet_private_endpoints     = "snet-pe"
    identity_gateway             = "id-${local.base}-gateway"
    identity_telemetry           = "id-${local.base}-telemetry"
    identity_backend             = "id-${local.base}-backend"
    openai_account_prefix        = "oai-${local.base}"
    container_app_environment    = "cae-${local.base}"
    container_app_gateway        = "ca-${local.base}-gateway"
    container_app_redis          = "ca-${local.base}-redis"
    container_app_simulator      = "ca-${local.base}-sim"
  }

  tags = merge(var.extra_tags, {
    workload    = var.workload_name
    environment = var.environment
    stack       = var.stack
    managed-by  = "terraform"
    project     = "spillway"
  })
}
