output "container_apps_subnet_id" {
  description = "Subnet ID for the Container Apps environment (infrastructure_subnet_id)."
  value       = azurerm_subnet.container_apps.id
}

output "private_dns_zone_ids" {
  description = "Map of private DNS zone name to zone ID."
  value       = { for name, zone in azurerm_private_dns_zone.this : name => zone.id }
}

output "private_endpoint_subnet_id" {
  description = "Subnet ID for private endpoints."
  value       = azurerm_subnet.private_endpoints.id
}

output "virtual_network_id" {
  description = "Resource ID of the virtual network (peer it with your hub to reach internal ingress)."
  value       = azurerm_virtual_network.this.id
}
