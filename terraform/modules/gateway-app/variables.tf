variable "container_app_environment_id" {
  type        = string
  description = "Container Apps environment the gateway runs in."
  nullable    = false
}

variable "identities" {
  type = object({
    gateway   = object({ id = string, client_id = string })
    telemetry = object({ id = string, client_id = string })
    backend   = object({ id = string, client_id = string })
  })
  description = "User-assigned identities from 10-platform: gateway (Key Vault references, image pull), telemetry (metrics remote write), backend (Entra ID tokens for Azure OpenAI backends without an API key)."
  nullable    = false
}

variable "image" {
  type        = string
  description = "Gateway image in the environment's registry, e.g. crspillwaydev1a2b3c.azurecr.io/spillway-gateway:3.18.0-ab12cd3."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9.-]+/[a-z0-9._/-]+:[A-Za-z0-9._-]+$", var.image))
    error_message = "image must be <registry>/<repository>:<tag>; `spillway deploy workload` builds and passes it."
  }
}

variable "key_vault_uri" {
  type        = string
  description = "URI of the environment's vault (ends with '/'); secrets are referenced as <uri>secrets/<name>."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Container app name (2-32 lowercase letters, digits, hyphens)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "registry_server" {
  type        = string
  description = "Login server of the registry the image comes from; pulled with the gateway identity."
  nullable    = false
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the container app."
  nullable    = false
}

variable "application_insights_connection_string" {
  type        = string
  default     = null
  description = "Connection string the collector exports traces with; stored as a Container Apps secret, never as a plain env var."
  sensitive   = true
}

variable "args" {
  type        = list(string)
  default     = []
  description = "Arguments for the image entrypoint, passed on to `spillway render` (e.g. --watch --interval 60)."
  nullable    = false
}

variable "cpu" {
  type        = number
  default     = 1
  description = "vCPU of the gateway container; memory is twice that in GiB (Consumption profile ratio)."
  nullable    = false

  validation {
    condition     = contains([0.5, 0.75, 1, 1.25, 1.5, 1.75], var.cpu)
    error_message = "cpu must be one of 0.5, 0.75, 1, 1.25, 1.5, 1.75 (the collector sidecar adds 0.25 and the app total must stay within 2 vCPU)."
  }
}

variable "env" {
  type        = map(string)
  default     = {}
  description = "Plain environment variables of the gateway container (renderer settings). Never put secrets here; use secret_env."
  nullable    = false
}

variable "health_path" {
  type        = string
  default     = "/healthz"
  description = "Health route the renderer serves on the gateway port without authentication; all three probes use it."
  nullable    = false
}

variable "http_concurrent_requests" {
  type        = number
  default     = 50
  description = "Concurrent requests per replica that trigger a scale-out (HTTP scale rule)."
  nullable    = false

  validation {
    condition     = var.http_concurrent_requests >= 1 && var.http_concurrent_requests <= 1000
    error_message = "http_concurrent_requests must be between 1 and 1000."
  }
}

variable "ingress_allowed_ip_ranges" {
  type        = list(string)
  default     = []
  description = "If set, only these CIDRs may reach the ingress (Allow rules); empty allows all."
  nullable    = false
}

variable "ingress_external" {
  type        = bool
  default     = true
  description = "External ingress (reachable from outside the environment) or internal only."
  nullable    = false
}

variable "max_replicas" {
  type        = number
  default     = 10
  description = "Upper bound of replicas."
  nullable    = false

  validation {
    condition     = var.max_replicas >= 1 && var.max_replicas <= 300
    error_message = "max_replicas must be between 1 and 300."
  }
}

variable "min_replicas" {
  type        = number
  default     = 1
  description = "Lower bound of replicas; 0 scales to zero when idle (the first request then waits for a cold start)."
  nullable    = false

  validation {
    condition     = var.min_replicas >= 0 && var.min_replicas <= 300
    error_message = "min_replicas must be between 0 and 300."
  }
}

variable "otel_collector_image" {
  type        = string
  default     = "otel/opentelemetry-collector-contrib:0.138.0"
  description = "Image of the OpenTelemetry collector sidecar (contrib build: azuremonitor exporter, azureauth)."
  nullable    = false
}

variable "port" {
  type        = number
  default     = 9080
  description = "APISIX proxy port: ingress target and probe port."
  nullable    = false
}

variable "prometheus_remote_write_endpoint" {
  type        = string
  default     = null
  description = "Azure Monitor managed Prometheus remote-write URL; null disables metrics export."
}

variable "secret_env" {
  type        = map(string)
  default     = {}
  description = "Environment variable name => Key Vault secret name. Each becomes a Container Apps secret that references the vault through the gateway identity."
  nullable    = false

  validation {
    condition     = alltrue([for s in values(var.secret_env) : can(regex("^[a-z0-9][a-z0-9-]{0,126}$", s))])
    error_message = "secret_env values must be Key Vault secret names in lower case (letters, digits, hyphens), e.g. gateway-client-key-0."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the container app."
  nullable    = false
}

variable "telemetry_enabled" {
  type        = bool
  default     = true
  description = "Run the OpenTelemetry collector sidecar (traces to Application Insights, metrics to managed Prometheus)."
  nullable    = false
}
