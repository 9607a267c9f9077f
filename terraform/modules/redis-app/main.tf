# Shared state for multi-replica gateways (Responses affinity, counters). One replica, no persistence: losing it
# loses affinity hints only, so the gateway must treat it as a cache.
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

  secret {
    name                = var.password_secret_name
    identity            = var.identity_id
    key_vault_secret_id = "${var.key_vault_uri}secrets/${var.password_secret_name}"
  }

  ingress {
    external_enabled = false
    exposed_port     = 6379
    target_port      = 6379
    transport        = "tcp"

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    max_replicas = 1
    min_replicas = 1

    container {
      # The password goes to redis-server on stdin (a config file of "-"), so it is on no process command line.
      args    = ["printf 'requirepass %s\\nsave \"\"\\nappendonly no\\n' \"$REDIS_PASSWORD\" | redis-server -"]
      command = ["/bin/sh", "-c"]
      cpu     = 0.25
      image   = var.image
      memory  = "0.5Gi"
      name    = "redis"

      env {
        name        = "REDIS_PASSWORD"
        secret_name = var.password_secret_name
      }

      readiness_probe {
        port      = 6379
        transport = "TCP"
      }

      liveness_probe {
        port      = 6379
        transport = "TCP"
      }
    }
  }
}
