module "naming" {
  source = "../../modules/naming"

  environment     = var.environment
  extra_tags      = var.tags
  stack           = "20-workload"
  subscription_id = var.subscription_id
  workload_name   = var.workload_name
}

# Inputs that must agree with each other; the gateway waits for these checks. (Simulators and Redis must not:
# the checks read their host names, and depending on the checks would make a cycle.)
resource "terraform_data" "input_checks" {
  input = var.environment

  lifecycle {
    precondition {
      condition     = length(setintersection(keys(var.app_settings), keys(local.generated_settings))) == 0
      error_message = "config/appsettings.<env>.env sets variables the deployment generates (${join(", ", setintersection(keys(var.app_settings), keys(local.generated_settings)))}); remove them there."
    }
    precondition {
      condition     = length(setintersection(keys(local.user_secret_env), keys(local.generated_secret_env))) == 0
      error_message = "config/secrets.<env>.env sets keys of provisioned or simulator backends (${join(", ", setintersection(keys(local.user_secret_env), keys(local.generated_secret_env)))}); remove them there."
    }
    precondition {
      condition     = !var.deploy_e2e || (var.simulator_image != null && contains(var.secret_names, var.simulator_api_key_secret_name))
      error_message = "E2E mode needs simulator_image and the ${var.simulator_api_key_secret_name} secret; run `spillway deploy workload <env> --deploy-e2e`, which builds and syncs both."
    }
    precondition {
      condition     = !var.redis_enabled || contains(var.secret_names, var.redis_password_secret_name)
      error_message = "Redis needs the ${var.redis_password_secret_name} secret; `spillway deploy workload` generates it when DEPLOY_REDIS=true."
    }
    precondition {
      condition     = var.max_replicas >= var.min_replicas
      error_message = "DEPLOY_MAX_REPLICAS must be >= DEPLOY_MIN_REPLICAS."
    }
  }
}

resource "azurerm_resource_group" "workload" {
  location = var.location
  name     = local.names.resource_group_workload
  tags     = local.tags
}

resource "azurerm_container_app_environment" "this" {
  location                       = var.location
  name                           = local.names.container_app_environment
  resource_group_name            = azurerm_resource_group.workload.name
  infrastructure_subnet_id       = var.private_networking_enabled ? data.azurerm_subnet.container_apps[0].id : null
  internal_load_balancer_enabled = var.private_networking_enabled ? !var.ingress_external : null
  log_analytics_workspace_id     = data.azurerm_log_analytics_workspace.this.id
  logs_destination               = "log-analytics"
  tags                           = local.tags

  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
}

module "gateway" {
  source = "../../modules/gateway-app"

  application_insights_connection_string = var.telemetry_enabled ? data.azurerm_application_insights.this.connection_string : null
  args                                   = local.gateway_args
  container_app_environment_id           = azurerm_container_app_environment.this.id
  cpu                                    = var.gateway_cpu
  env                                    = local.gateway_env
  http_concurrent_requests               = var.http_concurrent_requests
  identities = {
    gateway   = { id = data.azurerm_user_assigned_identity.gateway.id, client_id = data.azurerm_user_assigned_identity.gateway.client_id }
    telemetry = { id = data.azurerm_user_assigned_identity.telemetry.id, client_id = data.azurerm_user_assigned_identity.telemetry.client_id }
    backend   = { id = data.azurerm_user_assigned_identity.backend.id, client_id = data.azurerm_user_assigned_identity.backend.client_id }
  }
  image                            = var.gateway_image
  ingress_allowed_ip_ranges        = var.ingress_allowed_ip_ranges
  ingress_external                 = var.ingress_external
  key_vault_uri                    = data.azurerm_key_vault.platform.vault_uri
  max_replicas                     = var.max_replicas
  min_replicas                     = var.min_replicas
  name                             = local.names.container_app_gateway
  otel_collector_image             = var.otel_collector_image
  prometheus_remote_write_endpoint = var.telemetry_enabled ? local.remote_write_endpoint : null
  registry_server                  = data.azurerm_container_registry.platform.login_server
  resource_group_name              = azurerm_resource_group.workload.name
  secret_env                       = local.gateway_secret_env
  tags                             = local.tags
  telemetry_enabled                = var.telemetry_enabled

  depends_on = [terraform_data.input_checks]
}
