resource "azurerm_cognitive_account" "this" {
  kind                          = var.kind
  location                      = var.location
  name                          = var.name
  resource_group_name           = var.resource_group_name
  sku_name                      = var.sku_name
  custom_subdomain_name         = var.name
  local_auth_enabled            = var.local_auth_enabled
  public_network_access_enabled = !var.private_networking_enabled
  tags                          = var.tags

  network_acls {
    bypass         = "None"
    default_action = var.private_networking_enabled ? "Deny" : "Allow"
  }

  lifecycle {
    precondition {
      condition     = !var.private_networking_enabled || (var.private_endpoint_subnet_id != null && length(var.private_dns_zone_ids) > 0)
      error_message = "Private networking needs private_endpoint_subnet_id and private_dns_zone_ids; deploy 10-platform with DEPLOY_PRIVATE_NETWORKING=true first."
    }
    precondition {
      condition     = !var.local_auth_enabled || (var.key_vault_id != null && var.key_secret_name != null)
      error_message = "local_auth_enabled needs key_vault_id and key_secret_name so the key goes to Key Vault and nowhere else."
    }
  }
}

resource "azurerm_cognitive_deployment" "this" {
  for_each = { for d in var.deployments : d.name => d }

  cognitive_account_id   = azurerm_cognitive_account.this.id
  name                   = each.value.name
  rai_policy_name        = each.value.rai_policy_name
  version_upgrade_option = each.value.version_upgrade_option

  model {
    format  = each.value.model_format
    name    = each.value.model_name
    version = each.value.model_version
  }

  sku {
    name     = each.value.sku_name
    capacity = each.value.capacity
  }
}

module "private_endpoint" {
  source = "../private-endpoint"
  count  = var.private_networking_enabled ? 1 : 0

  location             = coalesce(var.private_endpoint_location, var.location)
  name                 = "pe-${var.name}"
  private_dns_zone_ids = var.private_dns_zone_ids
  resource_group_name  = var.resource_group_name
  subnet_id            = var.private_endpoint_subnet_id
  subresource_names    = ["account"]
  tags                 = var.tags
  target_resource_id   = azurerm_cognitive_account.this.id
}

resource "azurerm_role_assignment" "openai_user" {
  for_each = var.openai_user_principal_ids

  principal_id         = each.value
  scope                = azurerm_cognitive_account.this.id
  principal_type       = "ServicePrincipal"
  role_definition_name = "Cognitive Services OpenAI User"
}

# Only with local auth: the key goes straight from the account into Key Vault; it is never an output.
resource "azurerm_key_vault_secret" "key" {
  count = var.local_auth_enabled ? 1 : 0

  key_vault_id = var.key_vault_id
  name         = var.key_secret_name
  value        = azurerm_cognitive_account.this.primary_access_key
  content_type = "azure-openai-api-key"
  tags         = var.tags
}
