variable "deployments" {
  type = list(object({
    name                   = string
    model_name             = string
    model_version          = optional(string)
    model_format           = optional(string, "OpenAI")
    sku_name               = optional(string, "GlobalStandard")
    capacity               = optional(number, 10)
    rai_policy_name        = optional(string)
    version_upgrade_option = optional(string, "OnceNewDefaultVersionAvailable")
  }))
  description = "Model deployments of the account. Deployment names are what clients put in /openai/deployments/<name>, so keep them equal across regions."
  nullable    = false

  validation {
    condition     = length(distinct([for d in var.deployments : d.name])) == length(var.deployments)
    error_message = "deployments must have unique names within one account."
  }
}

variable "kind" {
  type        = string
  description = "Account kind: AIServices (AI Foundry) or OpenAI (classic Azure OpenAI)."
  nullable    = false

  validation {
    condition     = contains(["AIServices", "OpenAI"], var.kind)
    error_message = "kind must be AIServices or OpenAI."
  }
}

variable "location" {
  type        = string
  description = "Region of the account; spreading accounts across regions spreads quota."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Globally unique account name; also the custom subdomain (https://<name>.openai.azure.com)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$", var.name))
    error_message = "name must be 3-64 lowercase letters, digits or hyphens, not starting or ending with a hyphen."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the account."
  nullable    = false
}

variable "key_secret_name" {
  type        = string
  default     = null
  description = "Key Vault secret name for the account key; used only when local_auth_enabled."
}

variable "key_vault_id" {
  type        = string
  default     = null
  description = "Vault that receives the account key when local auth is on (secret key_secret_name)."
}

variable "local_auth_enabled" {
  type        = bool
  default     = false
  description = "Allow API-key auth; the key goes to key_vault_id as key_secret_name and is never an output. Off: Entra ID only (identities in openai_user_principal_ids)."
  nullable    = false
}

variable "openai_user_principal_ids" {
  type        = map(string)
  default     = {}
  description = "Identities granted Cognitive Services OpenAI User on this account only, keyed by a static label."
  nullable    = false
}

variable "private_dns_zone_ids" {
  type        = list(string)
  default     = []
  description = "privatelink.openai.azure.com / cognitiveservices / services.ai zone IDs; required with private networking."
  nullable    = false
}

variable "private_endpoint_location" {
  type        = string
  default     = null
  description = "Region of the private endpoint: the virtual network's region, which may differ from the account's. Null: the account's region."
}

variable "private_endpoint_subnet_id" {
  type        = string
  default     = null
  description = "Subnet for the account's private endpoint; required with private networking."
}

variable "private_networking_enabled" {
  type        = bool
  default     = false
  description = "When true, public network access is off and the account is reached through a private endpoint."
  nullable    = false
}

variable "sku_name" {
  type        = string
  default     = "S0"
  description = "Account SKU (S0 for Azure OpenAI / AI Services)."
  nullable    = false
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the account and its private endpoint."
  nullable    = false
}
