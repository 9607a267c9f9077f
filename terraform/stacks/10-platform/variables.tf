variable "environment" {
  type        = string
  description = "Environment code (the <env> of `spillway deploy <stage> <env>`), e.g. dev or prod."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits starting with a letter (e.g. dev, prod2)."
  }
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

variable "container_apps_subnet_prefix" {
  type        = string
  default     = "10.40.0.0/23"
  description = "CIDR of the Container Apps subnet when private networking is on (/27 or larger)."
  nullable    = false
}

variable "container_registry_public_network_access_enabled" {
  type        = bool
  default     = true
  description = "Keep the registry's public endpoint (Entra auth still required); needed by the default remote build. Set false with private networking and build with --local-docker from inside the network."
  nullable    = false
}

variable "container_registry_sku" {
  type        = string
  default     = "Standard"
  description = "Registry SKU without private networking (Premium is used when private networking is on)."
  nullable    = false

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.container_registry_sku)
    error_message = "container_registry_sku must be Basic, Standard or Premium."
  }
}

variable "deployer_principal_id" {
  type        = string
  default     = null
  description = "Object ID that syncs secrets and pushes images (Key Vault Secrets Officer, AcrPush on this environment only). Null: the principal running Terraform."
}

variable "operator_ip_ranges" {
  type        = list(string)
  default     = []
  description = "Public IPs/CIDRs allowed through the Key Vault firewall when private networking is off (DEPLOY_OPERATOR_IP_RANGES). Empty: the vault firewall allows all networks and RBAC is the only gate."
  nullable    = false

  validation {
    condition     = alltrue([for r in var.operator_ip_ranges : can(cidrhost(strcontains(r, "/") ? r : "${r}/32", 0))])
    error_message = "operator_ip_ranges must be IPv4 addresses or CIDRs such as 203.0.113.7 or 203.0.113.0/28."
  }
}

variable "private_endpoint_subnet_prefix" {
  type        = string
  default     = "10.40.2.0/24"
  description = "CIDR of the private endpoint subnet when private networking is on."
  nullable    = false
}

variable "private_networking_enabled" {
  type        = bool
  default     = false
  description = "Create a virtual network with private endpoints for Key Vault and the registry, and turn the vault's public access off (DEPLOY_PRIVATE_NETWORKING)."
  nullable    = false
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags for every resource (DEPLOY_TAGS=key=value,key=value)."
  nullable    = false
}

variable "virtual_network_address_space" {
  type        = list(string)
  default     = ["10.40.0.0/16"]
  description = "Address space of the virtual network when private networking is on."
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
