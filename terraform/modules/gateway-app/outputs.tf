output "fqdn" {
  description = "Ingress host name of the gateway."
  value       = azurerm_container_app.this.ingress[0].fqdn
}

output "latest_revision_name" {
  description = "Name of the revision created by this apply."
  value       = azurerm_container_app.this.latest_revision_name
}

output "name" {
  description = "Container app name (`az containerapp logs show -n`)."
  value       = azurerm_container_app.this.name
}

output "outbound_ip_addresses" {
  description = "Public IPs the gateway calls backends from (for Azure OpenAI firewalls without private networking)."
  value       = azurerm_container_app.this.outbound_ip_addresses
}

output "resource_id" {
  description = "Resource ID of the container app."
  value       = azurerm_container_app.this.id
}

output "url" {
  description = "Base URL of the gateway; clients call <url>/openai/..."
  value       = "https://${azurerm_container_app.this.ingress[0].fqdn}"
}
