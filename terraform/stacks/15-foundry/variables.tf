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

variable "existing_openai_accounts" {
  type = list(object({
    name                = string
    resource_group_name = string
  }))
  default     = []
  description = "Azure OpenAI / AI Foundry accounts created elsewhere that the gateway calls with Entra ID (AZURE_OPENAI_ENDPOINT_N without a key, or AZURE_OPENAI_AUTH_MODE_N=entra): the backend identity gets Cognitive Services OpenAI User on each."
  nullable    = false

  validation {
    condition     = length(distinct([for a in var.existing_openai_accounts : "${a.resource_group_name}/${a.name}"])) == length(var.existing_openai_accounts)
    error_message = "existing_openai_accounts lists an account twice; keep one entry per resource group and name."
  }
}

variable "local_auth_enabled" {
  type        = bool
  default     = true
  description = "Allow API keys on the accounts; Terraform writes each key straight into Key Vault (azure-openai-key-<account>) and the gateway sends it. false: the accounts accept Entra ID only and the gateway calls them with the backend identity's token, holding no key (DEPLOY_FOUNDRY_LOCAL_AUTH)."
  nullable    = false
}

variable "openai_accounts" {
  type = list(object({
    name     = string
    location = string
    kind     = optional(string, "AIServices")
    sku_name = optional(string, "S0")
    priority = optional(number, 5)
    weight   = optional(number, 1)
    deployments = list(object({
      name                   = string
      model_name             = string
      model_version          = optional(string)
      model_format           = optional(string, "OpenAI")
      sku_name               = optional(string, "GlobalStandard")
      capacity               = optional(number, 10)
      rai_policy_name        = optional(string)
      version_upgrade_option = optional(string, "OnceNewDefaultVersionAvailable")
    }))
  }))
  default     = []
  description = "Azure OpenAI / AI Foundry accounts to create, one per region (see terraform/env/example/15-foundry.tfvars). Higher priority is tried first; weight splits traffic within a priority."
  nullable    = false

  validation {
    condition     = length(var.openai_accounts) <= 10
    error_message = "openai_accounts holds at most 10 accounts; split larger fleets across environments."
  }
  validation {
    condition     = length(distinct([for a in var.openai_accounts : a.name])) == length(var.openai_accounts)
    error_message = "openai_accounts names must be unique (they become backend names and Key Vault secret names)."
  }
  validation {
    condition     = alltrue([for a in var.openai_accounts : can(regex("^[a-z][a-z0-9]{1,11}$", a.name))])
    error_message = "each openai_accounts name must be 2-12 lowercase letters or digits, e.g. swe1 or eus2."
  }
  validation {
    condition     = alltrue([for a in var.openai_accounts : a.priority >= 0 && a.weight >= 1 && floor(a.priority) == a.priority && floor(a.weight) == a.weight])
    error_message = "priority must be a whole number >= 0 and weight a whole number >= 1."
  }
}

variable "private_networking_enabled" {
  type        = bool
  default     = false
  description = "Turn the accounts' public access off and reach them through private endpoints in the platform network (DEPLOY_PRIVATE_NETWORKING)."
  nullable    = false
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
