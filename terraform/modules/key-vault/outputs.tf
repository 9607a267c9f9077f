output "name" {
  description = "Name of the vault (`az keyvault secret set --vault-name`)."
  value       = azurerm_key_vault.this.name
}

output "resource_id" {
  description = "Resource ID of the vault."
  value       = azurerm_key_vault.this.id
}

output "vault_uri" {
  description = "Vault URI ending in '/'; Container Apps secret references are <vault_uri>secrets/<name>."
  value       = azurerm_key_vault.this.vault_uri
}
