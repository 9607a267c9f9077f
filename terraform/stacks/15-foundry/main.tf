module "naming" {
  source = "../../modules/naming"

  environment     = var.environment
  extra_tags      = var.tags
  stack           = "15-foundry"
  subscription_id = var.subscription_id
  workload_name   = var.workload_name
}

# Created by 10-platform; found by deterministic names.
data "azurerm_user_assigned_identity" "backend" {
  name                = local.names.identity_backend
  resource_group_name = local.names.resource_group_platform
}

# Accounts created elsewhere that the gateway calls with Entra ID (existing_openai_accounts).
data "azurerm_cognitive_account" "existing" {
  for_each = local.existing_accounts

  name                = each.value.name
  resource_group_name = each.value.resource_group_name
}

data "azurerm_key_vault" "platform" {
  count = var.local_auth_enabled ? 1 : 0

  name                = local.names.key_vault
  resource_group_name = local.names.resource_group_platform
}

data "azurerm_subnet" "private_endpoints" {
  count = var.private_networking_enabled ? 1 : 0

  name                 = local.names.subnet_private_endpoints
  resource_group_name  = local.names.resource_group_platform
  virtual_network_name = local.names.virtual_network
}

data "azurerm_private_dns_zone" "openai" {
  for_each = var.private_networking_enabled ? toset(["privatelink.openai.azure.com", "privatelink.cognitiveservices.azure.com", "privatelink.services.ai.azure.com"]) : toset([])

  name                = each.value
  resource_group_name = local.names.resource_group_platform
}

resource "azurerm_resource_group" "foundry" {
  location = var.location
  name     = local.names.resource_group_foundry
  tags     = local.tags
}

# The same role as on the accounts created below (modules/openai-account), on one existing account each.
resource "azurerm_role_assignment" "existing_openai_user" {
  for_each = local.existing_accounts

  principal_id         = data.azurerm_user_assigned_identity.backend.principal_id
  scope                = data.azurerm_cognitive_account.existing[each.key].id
  principal_type       = "ServicePrincipal"
  role_definition_name = "Cognitive Services OpenAI User"
}

module "openai_account" {
  source   = "../../modules/openai-account"
  for_each = local.accounts

  deployments        = each.value.deployments
  key_secret_name    = var.local_auth_enabled ? "azure-openai-key-${each.key}" : null
  key_vault_id       = var.local_auth_enabled ? data.azurerm_key_vault.platform[0].id : null
  kind               = each.value.kind
  local_auth_enabled = var.local_auth_enabled
  location           = each.value.location
  name               = "${local.names.openai_account_prefix}-${each.key}-${module.naming.suffix}"
  openai_user_principal_ids = {
    backend = data.azurerm_user_assigned_identity.backend.principal_id
  }
  private_dns_zone_ids       = local.private_dns_zone_ids
  private_endpoint_location  = var.location
  private_endpoint_subnet_id = var.private_networking_enabled ? data.azurerm_subnet.private_endpoints[0].id : null
  private_networking_enabled = var.private_networking_enabled
  resource_group_name        = azurerm_resource_group.foundry.name
  sku_name                   = each.value.sku_name
  tags                       = local.tags
}
