data "azurerm_client_config" "current" {}

module "naming" {
  source = "../../modules/naming"

  environment     = var.environment
  extra_tags      = var.tags
  stack           = "10-platform"
  subscription_id = var.subscription_id
  workload_name   = var.workload_name
}

resource "azurerm_resource_group" "platform" {
  location = var.location
  name     = local.names.resource_group_platform
  tags     = local.tags
}

module "network" {
  source = "../../modules/network"
  count  = var.private_networking_enabled ? 1 : 0

  address_space                  = var.virtual_network_address_space
  container_apps_subnet_prefix   = var.container_apps_subnet_prefix
  location                       = var.location
  name                           = local.names.virtual_network
  private_dns_zone_names         = local.private_dns_zone_names
  private_endpoint_subnet_prefix = var.private_endpoint_subnet_prefix
  resource_group_name            = azurerm_resource_group.platform.name
  subnet_names = {
    container_apps    = local.names.subnet_container_apps
    private_endpoints = local.names.subnet_private_endpoints
  }
  tags = local.tags
}

module "key_vault" {
  source = "../../modules/key-vault"

  allowed_ip_ranges          = var.operator_ip_ranges
  location                   = var.location
  name                       = local.names.key_vault
  private_dns_zone_id        = lookup(local.private_dns_zone_ids, "privatelink.vaultcore.azure.net", null)
  private_endpoint_subnet_id = var.private_networking_enabled ? module.network[0].private_endpoint_subnet_id : null
  private_networking_enabled = var.private_networking_enabled
  resource_group_name        = azurerm_resource_group.platform.name
  secrets_officer_principal_ids = {
    deployer = local.deployer_principal_id
  }
  secrets_user_principal_ids = {
    gateway = azurerm_user_assigned_identity.gateway.principal_id
  }
  tags      = local.tags
  tenant_id = data.azurerm_client_config.current.tenant_id
}

module "container_registry" {
  source = "../../modules/container-registry"

  acr_pull_principal_ids = {
    gateway = azurerm_user_assigned_identity.gateway.principal_id
  }
  acr_push_principal_ids = {
    deployer = local.deployer_principal_id
  }
  location                      = var.location
  name                          = local.names.container_registry
  private_dns_zone_id           = lookup(local.private_dns_zone_ids, "privatelink.azurecr.io", null)
  private_endpoint_subnet_id    = var.private_networking_enabled ? module.network[0].private_endpoint_subnet_id : null
  private_networking_enabled    = var.private_networking_enabled
  public_network_access_enabled = var.container_registry_public_network_access_enabled
  resource_group_name           = azurerm_resource_group.platform.name
  sku                           = var.container_registry_sku
  tags                          = local.tags
}
