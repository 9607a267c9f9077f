output "gateway_app_name" {
  description = "Gateway container app (read by `spillway deploy workload` for the summary and log hints)."
  value       = module.gateway.name
}

output "gateway_outbound_ip_addresses" {
  description = "Public IPs the gateway calls backends from."
  value       = module.gateway.outbound_ip_addresses
}

output "gateway_revision_name" {
  description = "Revision created by the last apply."
  value       = module.gateway.latest_revision_name
}

output "gateway_url" {
  description = "Base URL of the gateway (read by `spillway deploy workload`); clients call <url>/openai/..."
  value       = module.gateway.url
}

output "resource_group_name" {
  description = "Resource group of the workload (read by `spillway deploy workload`)."
  value       = azurerm_resource_group.workload.name
}

output "simulator_urls" {
  description = "Internal URLs of the E2E simulators by instance name (empty outside E2E mode)."
  value       = { for name, sim in module.simulator : name => sim.url }
}
