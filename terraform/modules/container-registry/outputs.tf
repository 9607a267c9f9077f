output "login_server" {
  description = "Registry host name used in image references, e.g. crspillwaydev1a2b3c.azurecr.io."
  value       = azurerm_container_registry.this.login_server
}

output "name" {
  description = "Registry name (`az acr build --registry`)."
  value       = azurerm_container_registry.this.name
}

output "resource_id" {
  description = "Resource ID of the registry."
  value       = azurerm_container_registry.this.id
}
