locals {
  # The collector reads its config from an env var, so it needs no shared volume and never sees the rendered
  # apisix.yaml (which holds every client and backend key).
  collector_config = templatefile("${path.module}/otel-collector.yaml.tftpl", {
    metrics_enabled       = var.prometheus_remote_write_endpoint != null
    remote_write_endpoint = coalesce(var.prometheus_remote_write_endpoint, "unused")
    telemetry_client_id   = var.identities.telemetry.client_id
  })
  insights_secret_name = "appinsights-connection-string"
  key_vault_secrets    = toset(values(var.secret_env))
  memory               = "${var.cpu * 2}Gi"
}
