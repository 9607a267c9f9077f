output "fqdn" {
  description = "Internal host name of the simulator."
  value       = azurerm_container_app.this.ingress[0].fqdn
}

output "url" {
  description = "Endpoint to use as AZURE_OPENAI_ENDPOINT_<n>."
  value       = "https://${azurerm_container_app.this.ingress[0].fqdn}"
}
