resource "azurerm_container_app" "this" {
  container_app_environment_id = var.container_app_environment_id
  name                         = var.name
  resource_group_name          = var.resource_group_name
  revision_mode                = "Single"
  tags                         = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identities.gateway.id, var.identities.telemetry.id, var.identities.backend.id]
  }

  registry {
    server   = var.registry_server
    identity = var.identities.gateway.id
  }

  # Versionless Key Vault references resolved by the gateway identity; values never pass through Terraform.
  dynamic "secret" {
    for_each = local.key_vault_secrets

    content {
      name                = secret.value
      identity            = var.identities.gateway.id
      key_vault_secret_id = "${var.key_vault_uri}secrets/${secret.value}"
    }
  }

  dynamic "secret" {
    for_each = var.telemetry_enabled ? [local.insights_secret_name] : []

    content {
      name  = secret.value
      value = var.application_insights_connection_string
    }
  }

  ingress {
    allow_insecure_connections = false
    external_enabled           = var.ingress_external
    target_port                = var.port
    transport                  = "auto"

    dynamic "ip_security_restriction" {
      for_each = var.ingress_allowed_ip_ranges

      content {
        action           = "Allow"
        ip_address_range = ip_security_restriction.value
        name             = "allow-${ip_security_restriction.key}"
      }
    }

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    max_replicas = var.max_replicas
    min_replicas = var.min_replicas

    # The image entrypoint renders apisix.yaml from these variables, then execs APISIX.
    container {
      args   = var.args
      cpu    = var.cpu
      image  = var.image
      memory = local.memory
      name   = "gateway"

      dynamic "env" {
        for_each = var.env

        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env

        content {
          name        = env.key
          secret_name = env.value
        }
      }

      # Rendering and APISIX start-up: up to 2 minutes before liveness takes over.
      startup_probe {
        failure_count_threshold = 60
        interval_seconds        = 2
        path                    = var.health_path
        port                    = var.port
        timeout                 = 2
        transport               = "HTTP"
      }

      readiness_probe {
        failure_count_threshold = 3
        interval_seconds        = 5
        path                    = var.health_path
        port                    = var.port
        success_count_threshold = 1
        timeout                 = 2
        transport               = "HTTP"
      }

      liveness_probe {
        failure_count_threshold = 3
        interval_seconds        = 10
        path                    = var.health_path
        port                    = var.port
        timeout                 = 3
        transport               = "HTTP"
      }
    }

    dynamic "container" {
      for_each = var.telemetry_enabled ? ["otel-collector"] : []

      content {
        args   = ["--config=env:OTELCOL_CONFIG"]
        cpu    = 0.25
        image  = var.otel_collector_image
        memory = "0.5Gi"
        name   = container.value

        env {
          name  = "OTELCOL_CONFIG"
          value = local.collector_config
        }

        env {
          name        = "APPLICATIONINSIGHTS_CONNECTION_STRING"
          secret_name = local.insights_secret_name
        }

        liveness_probe {
          failure_count_threshold = 3
          interval_seconds        = 15
          path                    = "/"
          port                    = 13133
          timeout                 = 3
          transport               = "HTTP"
        }
      }
    }

    http_scale_rule {
      concurrent_requests = tostring(var.http_concurrent_requests)
      name                = "http-concurrency"
    }
  }

  lifecycle {
    precondition {
      condition     = var.max_replicas >= var.min_replicas
      error_message = "max_replicas must be >= min_replicas (DEPLOY_MAX_REPLICAS / DEPLOY_MIN_REPLICAS)."
    }
    precondition {
      condition     = !var.telemetry_enabled || var.application_insights_connection_string != null
      error_message = "Telemetry needs application_insights_connection_string; deploy 05-observability first or set telemetry_enabled = false."
    }
    precondition {
      condition     = length(setintersection(keys(var.env), keys(var.secret_env))) == 0
      error_message = "A variable is both a plain setting and a secret; keep it only in config/secrets.<env>.env."
    }
  }
}
