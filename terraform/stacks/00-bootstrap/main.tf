data "azurerm_client_config" "current" {}

module "naming" {
  source = "../../modules/naming"

  environment     = var.environment
  extra_tags      = var.tags
  stack           = "00-bootstrap"
  subscription_id = var.subscription_id
  workload_name   = var.workload_name
}

resource "azurerm_resource_group" "state" {
  location = var.location
  name     = local.names.resource_group_state
  tags     = local.tags
}

resource "azurerm_storage_account" "state" {
  account_replication_type        = var.state_replication_type
  account_tier                    = "Standard"
  location                        = azurerm_resource_group.state.location
  name                            = local.names.storage_account_state
  resource_group_name             = azurerm_resource_group.state.name
  allow_nested_items_to_be_public = false
  default_to_oauth_authentication = true
  min_tls_version                 = "TLS1_2"
  # Entra ID only: no account keys to leak; the backend uses use_azuread_auth.
  shared_access_key_enabled = false
  tags                      = local.tags

  blob_properties {
    versioning_enabled = true

    container_delete_retention_policy {
      days = var.state_soft_delete_retention_days
    }

    delete_retention_policy {
      days = var.state_soft_delete_retention_days
    }
  }

  network_rules {
    bypass         = ["AzureServices"]
    default_action = length(local.state_ip_rules) > 0 ? "Deny" : "Allow"
    ip_rules       = local.state_ip_rules
  }
}

resource "azurerm_storage_container" "tfstate" {
  name                  = "tfstate"
  storage_account_id    = azurerm_storage_account.state.id
  container_access_type = "private"
}

# The deploying principal reads and writes state blobs with its Entra token, on this account only.
resource "azurerm_role_assignment" "state_blob_contributor" {
  principal_id         = data.azurerm_client_config.current.object_id
  scope                = azurerm_storage_account.state.id
  role_definition_name = "Storage Blob Data Contributor"
}
