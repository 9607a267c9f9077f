variable "container_app_environment_id" {
  type        = string
  description = "Container Apps environment (the gateway's)."
  nullable    = false
}

variable "identity_id" {
  type        = string
  description = "User-assigned identity that reads the password from Key Vault (the gateway identity)."
  nullable    = false
}

variable "key_vault_uri" {
  type        = string
  description = "URI of the environment's vault (ends with '/')."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Container app name; also the host name the gateway connects to."
  nullable    = false
}

variable "password_secret_name" {
  type        = string
  description = "Key Vault secret with the Redis password (the gateway reads the same secret)."
  nullable    = false
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the container app."
  nullable    = false
}

variable "image" {
  type        = string
  default     = "redis:8.0-alpine"
  description = "Redis image (needs /bin/sh)."
  nullable    = false
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the container app."
  nullable    = false
}
