locals {
  deployer_principal_id = coalesce(var.deployer_principal_id, data.azurerm_client_config.current.object_id)
  names                 = module.naming.names
  # Zones for every private-link service Spillway reaches: vault, registry, Azure OpenAI / AI Foundry accounts.
  private_dns_zone_names = [
    "privatelink.vaultcore.azure.net",
    "privatelink.azurecr.io",
    "privatelink.openai.azure.com",
    "privatelink.cognitiveservices.azure.com",
    "privatelink.services.ai.azure.com",
  ]
  private_dns_zone_ids = var.private_networking_enabled ? module.network[0].private_dns_zone_ids : {}
  tags                 = module.naming.tags
}
