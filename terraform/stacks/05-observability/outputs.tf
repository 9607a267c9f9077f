output "application_insights_name" {
  description = "Application Insights component receiving the gateway's traces."
  value       = azurerm_application_insights.this.name
}

output "log_analytics_workspace_id" {
  description = "Resource ID of the Log Analytics workspace (Container Apps logs)."
  value       = azurerm_log_analytics_workspace.this.id
}

output "monitor_workspace_id" {
  description = "Resource ID of the Azure Monitor workspace (managed Prometheus)."
  value       = azurerm_monitor_workspace.this.id
}

output "monitor_workspace_query_endpoint" {
  description = "PromQL query endpoint for dashboards (Grafana data source URL)."
  value       = azurerm_monitor_workspace.this.query_endpoint
}

output "resource_group_name" {
  description = "Resource group holding the observability resources."
  value       = azurerm_resource_group.observability.name
}
