variable "environment" {
  type        = string
  description = "Environment code, e.g. dev, test, prod. Part of every resource name."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits starting with a letter (e.g. dev, prod2). Rename config/appsettings.<env>.env accordingly."
  }
}

variable "stack" {
  type        = string
  description = "Stack that owns the resources (00-bootstrap, 05-observability, ...); recorded in the `stack` tag."
  nullable    = false
}

variable "subscription_id" {
  type        = string
  description = "Subscription the environment lives in; it seeds the unique suffix of globally unique names."
  nullable    = false

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a GUID. Set DEPLOY_SUBSCRIPTION_ID in config/appsettings.<env>.env to the output of `az account show --query id -o tsv`."
  }
}

variable "workload_name" {
  type        = string
  description = "Short workload name used as the first part of every resource name."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.workload_name))
    error_message = "workload_name must be 2-10 lowercase letters or digits starting with a letter (e.g. spillway). Set DEPLOY_WORKLOAD_NAME accordingly."
  }
}

variable "extra_tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to the standard ones (workload, environment, stack, managed-by, project)."
  nullable    = false
}
