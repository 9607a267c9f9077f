# Alert rules from apisix/observability/alerts.yaml, the one source (promtool and tests/observability check it):
# one Azure Monitor managed Prometheus rule group per group there, evaluated on the workspace the gateway's OTel
# sidecar writes to. Only Prometheus' `for` and severity label need translating (locals.tf).
resource "azurerm_monitor_alert_prometheus_rule_group" "spillway" {
  for_each = local.alert_groups

  location            = azurerm_resource_group.observability.location
  name                = "amprg-${var.workload_name}-${var.environment}-${each.key}"
  resource_group_name = azurerm_resource_group.observability.name
  scopes              = [azurerm_monitor_workspace.this.id]
  description         = "Spillway gateway alerts (${each.key}) from apisix/observability/alerts.yaml."
  interval            = "PT${upper(each.value.interval)}"
  rule_group_enabled  = var.alerts_enabled
  tags                = local.tags

  dynamic "rule" {
    for_each = each.value.rules

    content {
      alert       = rule.value.alert
      enabled     = true
      expression  = rule.value.expr
      for         = "PT${upper(rule.value.for)}"
      severity    = local.alert_severity[rule.value.labels.severity]
      labels      = rule.value.labels
      annotations = rule.value.annotations

      dynamic "action" {
        for_each = var.alert_action_group_ids

        content {
          action_group_id = action.value
        }
      }

      alert_resolution {
        auto_resolved   = true
        time_to_resolve = "PT10M"
      }
    }
  }
}
