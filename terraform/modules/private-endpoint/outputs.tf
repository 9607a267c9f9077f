output "private_ip_address" {
  description = "Private IP address the target resolves to inside the virtual network."
  value       = azurerm_private_endpoint.this.private_service_connection[0].private_ip_address
}

output "resource_id" {
  description = "Resource ID of the private endpoint."
  value       = azurerm_private_endpoint.this.id
}
