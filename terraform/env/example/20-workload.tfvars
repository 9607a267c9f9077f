# Example for terraform/env/<env>/20-workload.tfvars: knobs without a DEPLOY_* setting. Values here override
# what `spillway deploy` generates (it passes this file last).

gateway_cpu              = 1
http_concurrent_requests = 50
otel_collector_image     = "otel/opentelemetry-collector-contrib:0.138.0"
