locals {
  names = module.naming.names
  tags  = module.naming.tags

  # The alert rules live with the gateway (apisix/observability/alerts.yaml, Prometheus rule-file format).
  alert_groups = { for group in yamldecode(file("${path.module}/../../../apisix/observability/alerts.yaml")).groups : group.name => group }
  # Prometheus severity labels as Azure Monitor severities (0 critical … 4 verbose).
  alert_severity = { critical = 0, error = 1, warning = 2, info = 3 }
}
