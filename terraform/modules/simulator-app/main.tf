# E2E only (--deploy-e2e): an Azure OpenAI simulator reachable only inside the environment.
resource "azurerm_container_app" "this" {
  container_app_environment_id = var.container_app_environment_id
  name                         = var.name
  resource_group_name          = var.resource_group_name
  revision_mode                = "Single"
  tags                         = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identity_id]
  }

  registry {
    server   = var.registry_server
    identity = var.identity_id
  }

  secret {
    name                = var.api_key_secret_name
    identity            = var.identity_id
    key_vault_secret_id = "${var.key_vault_uri}secrets/${var.api_key_secret_name}"
  }

  ingress {
    allow_insecure_connections = false
    # Internal: only the gateway (same environment) calls the simulators.
    external_enabled = false
    target_port      = var.port
    transport        = "http"

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    # Fixed at one replica: the simulator's rate-limit windows are per process.
    max_replicas = 1
    min_replicas = 1

    container {
      args   = concat(["--host", "0.0.0.0", "--port", tostring(var.port), "--instance", var.instance_name], var.args)
      cpu    = 0.25
      image  = var.image
      memory = "0.5Gi"
      name   = "simulator"

      env {
        name        = "SIMULATOR_API_KEY"
        secret_name = var.api_key_secret_name
      }

      readiness_probe {
        port      = var.port
        transport = "TCP"
      }

      liveness_probe {
        port      = var.port
        transport = "TCP"
      }
    }
  }
}
