variable "location" {
  type        = string
  description = "Region of the vault."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Globally unique vault name (3-24 characters)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$", var.name))
    error_message = "name must be 3-24 letters, digits or hyphens, start with a letter and not end with a hyphen."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the vault."
  nullable    = false
}

variable "tenant_id" {
  type        = string
  description = "Entra tenant that authenticates requests to the vault."
  nullable    = false
}

variable "allowed_ip_ranges" {
  type        = list(string)
  default     = []
  description = "Public IPs/CIDRs allowed through the vault firewall while public access is on (ignored with private networking)."
  nullable    = false
}

variable "private_dns_zone_id" {
  type        = string
  default     = null
  description = "ID of the privatelink.vaultcore.azure.net zone; required with private networking."
}

variable "private_endpoint_subnet_id" {
  type        = string
  default     = null
  description = "Subnet for the vault's private endpoint; required with private networking."
}

variable "private_networking_enabled" {
  type        = bool
  default     = false
  description = "When true, public network access is disabled and the vault is reachable only through its private endpoint."
  nullable    = false
}

variable "secrets_officer_principal_ids" {
  type        = map(string)
  default     = {}
  description = "Principals that write secrets (the deploying user or pipeline), keyed by a static label. Role: Key Vault Secrets Officer on this vault."
  nullable    = false
}

variable "secrets_user_principal_ids" {
  type        = map(string)
  default     = {}
  description = "Principals that read secrets (the gateway identity), keyed by a static label. Role: Key Vault Secrets User on this vault."
  nullable    = false
}

variable "soft_delete_retention_days" {
  type        = number
  default     = 90
  description = "Days a deleted vault or secret stays recoverable (7-90; fixed after creation)."
  nullable    = false

  validation {
    condition     = var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90
    error_message = "soft_delete_retention_days must be between 7 and 90."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the vault and its private endpoint."
  nullable    = false
}
