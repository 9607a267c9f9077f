module "naming" {
  source = "../../modules/naming"

  environment     = var.environment
  extra_tags      = var.tags
  stack           = "05-observability"
  subscription_id = var.subscription_id
  workload_name   = var.workload_name
}

resource "azurerm_resource_group" "observability" {
  location = var.location
  name     = local.names.resource_group_observability
  tags     = local.tags
}

resource "azurerm_log_analytics_workspace" "this" {
  location            = azurerm_resource_group.observability.location
  name                = local.names.log_analytics_workspace
  resource_group_name = azurerm_resource_group.observability.name
  retention_in_days   = var.log_retention_days
  sku                 = "PerGB2018"
  tags                = local.tags
}

resource "azurerm_application_insights" "this" {
  application_type     = "other"
  location             = azurerm_resource_group.observability.location
  name                 = local.names.application_insights
  resource_group_name  = azurerm_resource_group.observability.name
  daily_data_cap_in_gb = var.application_insights_daily_cap_gb
  tags                 = local.tags
  workspace_id         = azurerm_log_analytics_workspace.this.id
}

# Managed Prometheus: the gateway's OTel sidecar remote-writes APISIX metrics here, authenticated by the
# telemetry identity (Monitoring Metrics Publisher on the default data collection rule only). Ingestion stays on
# the public endpoint: a private one needs an Azure Monitor Private Link Scope, which Spillway does not manage.
resource "azurerm_monitor_workspace" "this" {
  location            = azurerm_resource_group.observability.location
  name                = local.names.monitor_workspace
  resource_group_name = azurerm_resource_group.observability.name
  tags                = local.tags
}
