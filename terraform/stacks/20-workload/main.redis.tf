module "redis" {
  source = "../../modules/redis-app"
  count  = var.redis_enabled ? 1 : 0

  container_app_environment_id = azurerm_container_app_environment.this.id
  identity_id                  = data.azurerm_user_assigned_identity.gateway.id
  image                        = var.redis_image
  key_vault_uri                = data.azurerm_key_vault.platform.vault_uri
  name                         = local.names.container_app_redis
  password_secret_name         = var.redis_password_secret_name
  resource_group_name          = azurerm_resource_group.workload.name
  tags                         = local.tags
}
