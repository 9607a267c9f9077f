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

variable "alert_action_group_ids" {
  type        = list(string)
  default     = []
  description = "Action groups notified when a Spillway alert fires (resource IDs). Empty: alerts show in Azure Monitor only."
  nullable    = false

  validation {
    condition     = alltrue([for id in var.alert_action_group_ids : can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/microsoft\\.insights/actionGroups/[^/]+$", id))])
    error_message = "alert_action_group_ids must hold action group resource IDs, e.g. the output of `az monitor action-group show -g <rg> -n <name> --query id -o tsv`."
  }
}

variable "alerts_enabled" {
  type        = bool
  default     = true
  description = "Evaluate the alert rules of apisix/observability/alerts.yaml (false keeps the rule groups, disabled)."
  nullable    = false
}

variable "application_insights_daily_cap_gb" {
  type        = number
  default     = 10
  description = "Daily ingestion cap of Application Insights, in GB (protects the bill from a trace storm)."
  nullable    = false

  validation {
    condition     = var.application_insights_daily_cap_gb > 0
    error_message = "application_insights_daily_cap_gb must be greater than 0."
  }
}

variable "log_retention_days" {
  type        = number
  default     = 30
  description = "Retention of the Log Analytics workspace, in days."
  nullable    = false

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730 (Log Analytics limits)."
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
