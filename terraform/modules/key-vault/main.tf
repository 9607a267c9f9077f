resource "azurerm_key_vault" "this" {
  location                      = var.location
  name                          = var.name
  resource_group_name           = var.resource_group_name
  sku_name                      = "standard"
  tenant_id                     = var.tenant_id
  public_network_access_enabled = !var.private_networking_enabled
  purge_protection_enabled      = true
  # Azure RBAC only: access is granted per principal by role assignments on this vault, never by access policies.
  rbac_authorization_enabled = true
  soft_delete_retention_days = var.soft_delete_retention_days
  tags                       = var.tags

  network_acls {
    bypass         = var.private_networking_enabled ? "None" : "AzureServices"
    default_action = local.restrict_public ? "Deny" : "Allow"
    ip_rules       = var.private_networking_enabled ? [] : var.allowed_ip_ranges
  }

  lifecycle {
    precondition {
      condition     = !var.private_networking_enabled || (var.private_endpoint_subnet_id != null && var.private_dns_zone_id != null)
      error_message = "Private networking needs private_endpoint_subnet_id and private_dns_zone_id; deploy the platform stack with DEPLOY_PRIVATE_NETWORKING=true so the network module creates them."
    }
  }
}

module "private_endpoint" {
  source = "../private-endpoint"
  count  = var.private_networking_enabled ? 1 : 0

  location             = var.location
  name                 = "pe-${var.name}"
  private_dns_zone_ids = [var.private_dns_zone_id]
  resource_group_name  = var.resource_group_name
  subnet_id            = var.private_endpoint_subnet_id
  subresource_names    = ["vault"]
  tags                 = var.tags
  target_resource_id   = azurerm_key_vault.this.id
}

resource "azurerm_role_assignment" "secrets_user" {
  for_each = var.secrets_user_principal_ids

  principal_id         = each.value
  scope                = azurerm_key_vault.this.id
  principal_type       = "ServicePrincipal"
  role_definition_name = "Key Vault Secrets User"
}

resource "azurerm_role_assignment" "secrets_officer" {
  for_each = var.secrets_officer_principal_ids

  principal_id         = each.value
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
}
