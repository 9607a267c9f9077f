output "state_container_name" {
  description = "Blob container holding every other stack's state (backend container_name)."
  value       = azurerm_storage_container.tfstate.name
}

output "state_resource_group_name" {
  description = "Resource group of the state storage account (backend resource_group_name)."
  value       = azurerm_resource_group.state.name
}

output "state_storage_account_name" {
  description = "State storage account (backend storage_account_name)."
  value       = azurerm_storage_account.state.name
}

output "tenant_id" {
  description = "Entra tenant of the deployment; the later stacks' backends authenticate against it."
  value       = data.azurerm_client_config.current.tenant_id
}
