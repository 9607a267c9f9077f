# Three identities, each with the least it needs; none has a role above a single resource.
#   gateway:   Key Vault Secrets User on this environment's vault, AcrPull on its registry (module calls in main.tf).
#   telemetry: Monitoring Metrics Publisher on the Azure Monitor workspace's default data collection rule.
#   backend:   Cognitive Services OpenAI User on each Azure OpenAI account the gateway calls with Entra ID (granted by
#              15-foundry: the accounts it creates and existing_openai_accounts); the gateway gets its tokens
#              (AZURE_OPENAI_MSI_CLIENT_ID, set by 20-workload) for every backend without an API key.

resource "azurerm_user_assigned_identity" "gateway" {
  location            = var.location
  name                = local.names.identity_gateway
  resource_group_name = azurerm_resource_group.platform.name
  tags                = local.tags
}

resource "azurerm_user_assigned_identity" "telemetry" {
  location            = var.location
  name                = local.names.identity_telemetry
  resource_group_name = azurerm_resource_group.platform.name
  tags                = local.tags
}

resource "azurerm_user_assigned_identity" "backend" {
  location            = var.location
  name                = local.names.identity_backend
  resource_group_name = azurerm_resource_group.platform.name
  tags                = local.tags
}

# Created by 05-observability; found by its deterministic name.
data "azurerm_monitor_workspace" "this" {
  name                = local.names.monitor_workspace
  resource_group_name = local.names.resource_group_observability
}

resource "azurerm_role_assignment" "telemetry_metrics_publisher" {
  principal_id         = azurerm_user_assigned_identity.telemetry.principal_id
  scope                = data.azurerm_monitor_workspace.this.default_data_collection_rule_id
  principal_type       = "ServicePrincipal"
  role_definition_name = "Monitoring Metrics Publisher"
}
