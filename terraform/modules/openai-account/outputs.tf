output "deployment_names" {
  description = "Names of the model deployments on this account."
  value       = [for d in azurerm_cognitive_deployment.this : d.name]
}

output "endpoint" {
  description = "Azure OpenAI endpoint of the account (custom subdomain on openai.azure.com)."
  value       = "https://${azurerm_cognitive_account.this.custom_subdomain_name}.openai.azure.com"
}

output "key_secret_name" {
  description = "Key Vault secret holding the account key, or null when the account uses Entra ID only."
  value       = var.local_auth_enabled ? azurerm_key_vault_secret.key[0].name : null
}

output "name" {
  description = "Name of the account."
  value       = azurerm_cognitive_account.this.name
}

output "resource_id" {
  description = "Resource ID of the account."
  value       = azurerm_cognitive_account.this.id
}
