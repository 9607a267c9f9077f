resource "azurerm_container_registry" "this" {
  location            = var.location
  name                = var.name
  resource_group_name = var.resource_group_name
  # Private endpoints exist only on Premium.
  sku = var.private_networking_enabled ? "Premium" : var.sku
  # Pulls and pushes use Entra identities; there is no shared admin password.
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = var.public_network_access_enabled
  tags                          = var.tags

  lifecycle {
    precondition {
      condition     = !var.private_networking_enabled || (var.private_endpoint_subnet_id != null && var.private_dns_zone_id != null)
      error_message = "Private networking needs private_endpoint_subnet_id and private_dns_zone_id; deploy the platform stack with DEPLOY_PRIVATE_NETWORKING=true so the network module creates them."
    }
    precondition {
      condition     = var.public_network_access_enabled || var.private_networking_enabled
      error_message = "A registry without public access needs private networking (DEPLOY_PRIVATE_NETWORKING=true), otherwise nothing can push or pull."
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
  subresource_names    = ["registry"]
  tags                 = var.tags
  target_resource_id   = azurerm_container_registry.this.id
}

resource "azurerm_role_assignment" "acr_pull" {
  for_each = var.acr_pull_principal_ids

  principal_id         = each.value
  scope                = azurerm_container_registry.this.id
  principal_type       = "ServicePrincipal"
  role_definition_name = "AcrPull"
}

resource "azurerm_role_assignment" "acr_push" {
  for_each = var.acr_push_principal_ids

  principal_id         = each.value
  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPush"
}
