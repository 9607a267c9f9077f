output "backend_identity_client_id" {
  description = "Client ID of the identity the gateway uses for Entra ID auth to Azure OpenAI backends."
  value       = azurerm_user_assigned_identity.backend.client_id
}

output "container_registry_login_server" {
  description = "Registry host for image references (read by `spillway deploy workload`)."
  value       = module.container_registry.login_server
}

output "container_registry_name" {
  description = "Registry name for `az acr build --registry` (read by `spillway deploy workload`)."
  value       = module.container_registry.name
}

output "gateway_identity_client_id" {
  description = "Client ID of the gateway identity (Key Vault references, image pulls)."
  value       = azurerm_user_assigned_identity.gateway.client_id
}

output "key_vault_name" {
  description = "Vault that holds the environment's secrets (read by `spillway deploy` for the secret sync)."
  value       = module.key_vault.name
}

output "key_vault_uri" {
  description = "Vault URI; Container Apps secret references point at <uri>secrets/<name>."
  value       = module.key_vault.vault_uri
}

output "private_networking_enabled" {
  description = "Whether the vault and registry are reachable only through private endpoints."
  value       = var.private_networking_enabled
}

output "virtual_network_id" {
  description = "Virtual network to peer with for private access (null without private networking)."
  value       = var.private_networking_enabled ? module.network[0].virtual_network_id : null
}
