variable "environment" {
  type        = string
  description = "Environment code (the <env> of `spillway deploy <stage> <env>`), e.g. dev or prod."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits starting with a letter (e.g. dev, prod2)."
  }
}

variable "gateway_image" {
  type        = string
  description = "Gateway image reference <registry>/spillway-gateway:<tag>; `spillway deploy workload` builds it and passes it."
  nullable    = false
}

variable "location" {
  type        = string
  description = "Azure region for the environment's resources, e.g. swedencentral (DEPLOY_LOCATION)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "location must be an Azure region name such as swedencentral (see `az account list-locations -o table`), not a display name."
  }
}

variable "subscription_id" {
  type        = string
  description = "Target subscription (DEPLOY_SUBSCRIPTION_ID); the provider never falls back to the CLI default."
  nullable    = false

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a GUID: set DEPLOY_SUBSCRIPTION_ID to the output of `az account show --query id -o tsv`."
  }
}

variable "app_settings" {
  type        = map(string)
  default     = {}
  description = "Non-secret gateway settings (config/appsettings.<env>.env without DEPLOY_* keys), passed to the renderer as environment variables."
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.app_settings) : can(regex("^[A-Z_][A-Z0-9_]*$", k))])
    error_message = "app_settings keys must be upper-case environment variable names (A-Z, 0-9, _)."
  }
  validation {
    condition     = alltrue([for k in keys(var.app_settings) : k == "LB_HASH_KEY" || !can(regex("(^|_)(PASSWORD|SECRET)$|_KEY(_[0-9]+)?$|CONNECTION_STRING$", k))])
    error_message = "app_settings holds a secret-looking variable (a *_KEY_N, *_PASSWORD, *_SECRET or *CONNECTION_STRING); move it to config/secrets.<env>.env so it goes through Key Vault."
  }
}

variable "backend_index_offset" {
  type        = number
  default     = 0
  description = "First AZURE_OPENAI_*_<n> index for provisioned and simulator backends; the CLI sets it past the indexes used in app_settings."
  nullable    = false

  validation {
    condition     = var.backend_index_offset >= 0 && floor(var.backend_index_offset) == var.backend_index_offset
    error_message = "backend_index_offset must be a whole number >= 0."
  }
}

variable "deploy_e2e" {
  type        = bool
  default     = false
  description = "E2E mode (--deploy-e2e): three internal simulator apps become backends and the renderer adds its E2E routes (GATEWAY_E2E_TEST_MODE=true)."
  nullable    = false
}

variable "gateway_cpu" {
  type        = number
  default     = 1
  description = "vCPU of the gateway container (memory = 2 x vCPU GiB) (DEPLOY_GATEWAY_CPU)."
  nullable    = false
}

variable "http_concurrent_requests" {
  type        = number
  default     = 50
  description = "Concurrent requests per replica that trigger scale-out (DEPLOY_HTTP_CONCURRENCY)."
  nullable    = false
}

variable "ingress_allowed_ip_ranges" {
  type        = list(string)
  default     = []
  description = "CIDRs allowed to reach the gateway ingress (DEPLOY_INGRESS_ALLOWED_IPS); empty allows all."
  nullable    = false

  validation {
    condition     = alltrue([for r in var.ingress_allowed_ip_ranges : can(cidrhost(r, 0))])
    error_message = "ingress_allowed_ip_ranges must be CIDRs such as 203.0.113.0/24 or 203.0.113.7/32."
  }
}

variable "ingress_external" {
  type        = bool
  default     = true
  description = "External ingress, or internal only (reachable inside the environment and, with private networking, the virtual network) (DEPLOY_INGRESS=external|internal)."
  nullable    = false
}

variable "key_vault_watch_interval_seconds" {
  type        = number
  default     = 0
  description = "Above 0, the renderer also reads Key Vault (KEY_VAULT_URI) and re-reads it at this interval, so rotated keys apply without a new revision (DEPLOY_KEY_VAULT_WATCH_SECONDS). 0: secrets come only from Container Apps Key Vault references, read at revision start."
  nullable    = false

  validation {
    condition     = var.key_vault_watch_interval_seconds == 0 || (var.key_vault_watch_interval_seconds >= 10 && var.key_vault_watch_interval_seconds <= 3600)
    error_message = "key_vault_watch_interval_seconds must be 0 (off) or between 10 and 3600."
  }
}

variable "max_replicas" {
  type        = number
  default     = 10
  description = "Maximum gateway replicas (DEPLOY_MAX_REPLICAS)."
  nullable    = false
}

variable "min_replicas" {
  type        = number
  default     = 1
  description = "Minimum gateway replicas; 0 scales to zero when idle (DEPLOY_MIN_REPLICAS)."
  nullable    = false
}

variable "otel_collector_image" {
  type        = string
  default     = "otel/opentelemetry-collector-contrib:0.138.0"
  description = "Image of the OpenTelemetry collector sidecar."
  nullable    = false
}

variable "private_networking_enabled" {
  type        = bool
  default     = false
  description = "Put the Container Apps environment in the platform virtual network so it reaches Key Vault, the registry and Azure OpenAI through private endpoints (DEPLOY_PRIVATE_NETWORKING)."
  nullable    = false
}

variable "provisioned_backends" {
  type = list(object({
    name            = string
    endpoint        = string
    priority        = number
    weight          = number
    key_secret_name = optional(string)
  }))
  default     = []
  description = "Backends created by 15-foundry (its `backends` output): key_secret_name is the Key Vault secret of the account's API key, or null for an account without keys, which the gateway calls with the backend identity's Entra ID token."
  nullable    = false
}

variable "redis_enabled" {
  type        = bool
  default     = false
  description = "Run a Redis container app for state shared by replicas (DEPLOY_REDIS); its password is the Key Vault secret redis_password_secret_name."
  nullable    = false
}

variable "redis_image" {
  type        = string
  default     = "redis:8.0-alpine"
  description = "Redis image used when redis_enabled."
  nullable    = false
}

variable "redis_password_secret_name" {
  type        = string
  default     = "spillway-redis-password"
  description = "Key Vault secret with the Redis password (SPILLWAY_REDIS_PASSWORD in the secrets file; generated when absent)."
  nullable    = false
}

variable "secret_names" {
  type        = list(string)
  default     = []
  description = "Key Vault secret names synced from config/secrets.<env>.env (GATEWAY_CLIENT_KEY_0 -> gateway-client-key-0). Names only; values never reach Terraform."
  nullable    = false

  validation {
    condition     = alltrue([for n in var.secret_names : can(regex("^[a-z0-9][a-z0-9-]{0,126}$", n))])
    error_message = "secret_names must be lower-case Key Vault secret names (letters, digits, hyphens)."
  }
}

variable "simulator_api_key_secret_name" {
  type        = string
  default     = "simulator-api-key"
  description = "Key Vault secret with the simulators' API key (E2E mode)."
  nullable    = false
}

variable "simulator_args" {
  type        = list(string)
  default     = []
  description = "Extra arguments for `spillway simulator` in the simulator apps (E2E mode)."
  nullable    = false
}

variable "simulator_image" {
  type        = string
  default     = null
  description = "Simulator image <registry>/spillway-simulator:<tag>; required with deploy_e2e."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags for every resource (DEPLOY_TAGS=key=value,key=value)."
  nullable    = false
}

variable "telemetry_enabled" {
  type        = bool
  default     = true
  description = "Run the OpenTelemetry collector sidecar (traces to Application Insights, metrics to managed Prometheus)."
  nullable    = false
}

variable "workload_name" {
  type        = string
  default     = "spillway"
  description = "Short workload name, first part of every resource name (DEPLOY_WORKLOAD_NAME)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.workload_name))
    error_message = "workload_name must be 2-10 lowercase letters or digits starting with a letter (e.g. spillway)."
  }
}
