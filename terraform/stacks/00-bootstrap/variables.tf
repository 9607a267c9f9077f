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

variable "state_allowed_ip_ranges" {
  type        = list(string)
  default     = []
  description = "Public IPs/CIDRs allowed to reach the state storage account (DEPLOY_OPERATOR_IP_RANGES). Empty: reachable from anywhere, Entra ID auth only."
  nullable    = false

  validation {
    condition     = alltrue([for r in var.state_allowed_ip_ranges : can(cidrhost(strcontains(r, "/") ? r : "${r}/32", 0))])
    error_message = "state_allowed_ip_ranges must be IPv4 addresses or CIDRs such as 203.0.113.7 or 203.0.113.0/28."
  }
}

variable "state_replication_type" {
  type        = string
  default     = "ZRS"
  description = "Replication of the state storage account: LRS, ZRS, GRS or GZRS."
  nullable    = false

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "GZRS"], var.state_replication_type)
    error_message = "state_replication_type must be one of LRS, ZRS, GRS, GZRS (ZRS is not offered in every region; use LRS there)."
  }
}

variable "state_soft_delete_retention_days" {
  type        = number
  default     = 30
  description = "Days deleted state blobs and containers stay recoverable."
  nullable    = false

  validation {
    condition     = var.state_soft_delete_retention_days >= 1 && var.state_soft_delete_retention_days <= 365
    error_message = "state_soft_delete_retention_days must be between 1 and 365."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags for every resource (DEPLOY_TAGS=key=value,key=value)."
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
