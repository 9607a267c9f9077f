# --deploy-e2e only: simulators as backends, reachable only inside the environment. Their API key is a Key Vault
# secret like any other; nothing prints it.
module "simulator" {
  source   = "../../modules/simulator-app"
  for_each = { for s in local.simulator_list : s.name => s }

  api_key_secret_name          = var.simulator_api_key_secret_name
  args                         = var.simulator_args
  container_app_environment_id = azurerm_container_app_environment.this.id
  identity_id                  = data.azurerm_user_assigned_identity.gateway.id
  image                        = coalesce(var.simulator_image, var.gateway_image)
  instance_name                = each.key
  key_vault_uri                = data.azurerm_key_vault.platform.vault_uri
  name                         = "${local.names.container_app_simulator}-${each.key}"
  registry_server              = data.azurerm_container_registry.platform.login_server
  resource_group_name          = azurerm_resource_group.workload.name
  tags                         = local.tags
}
