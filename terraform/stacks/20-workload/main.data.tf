# Everything below was created by 05-observability and 10-platform; found by the naming module's names.

data "azurerm_user_assigned_identity" "gateway" {
  name                = local.names.identity_gateway
  resource_group_name = local.names.resource_group_platform
}

data "azurerm_user_assigned_identity" "telemetry" {
  name                = local.names.identity_telemetry
  resource_group_name = local.names.resource_group_platform
}

data "azurerm_user_assigned_identity" "backend" {
  name                = local.names.identity_backend
  resource_group_name = local.names.resource_group_platform
}

data "azurerm_key_vault" "platform" {
  name                = local.names.key_vault
  resource_group_name = local.names.resource_group_platform
}

data "azurerm_container_registry" "platform" {
  name                = local.names.container_registry
  resource_group_name = local.names.resource_group_platform
}

data "azurerm_subnet" "container_apps" {
  count = var.private_networking_enabled ? 1 : 0

  name                 = local.names.subnet_container_apps
  resource_group_name  = local.names.resource_group_platform
  virtual_network_name = local.names.virtual_network
}

data "azurerm_log_analytics_workspace" "this" {
  name                = local.names.log_analytics_workspace
  resource_group_name = local.names.resource_group_observability
}

data "azurerm_application_insights" "this" {
  name                = local.names.application_insights
  resource_group_name = local.names.resource_group_observability
}

data "azurerm_monitor_workspace" "this" {
  name                = local.names.monitor_workspace
  resource_group_name = local.names.resource_group_observability
}

# The workspace's default endpoint and rule live in its managed resource group; their IDs carry group and name.
data "azurerm_monitor_data_collection_endpoint" "default" {
  name                = local.dce_id_parts[8]
  resource_group_name = local.dce_id_parts[4]
}

data "azurerm_monitor_data_collection_rule" "default" {
  name                = local.dcr_id_parts[8]
  resource_group_name = local.dcr_id_parts[4]
}
