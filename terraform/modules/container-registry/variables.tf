variable "location" {
  type        = string
  description = "Region of the registry."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Globally unique registry name (5-50 letters and digits)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9]{5,50}$", var.name))
    error_message = "name must be 5-50 letters or digits (no hyphens)."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the registry."
  nullable    = false
}

variable "acr_pull_principal_ids" {
  type        = map(string)
  default     = {}
  description = "Identities that pull images (the gateway identity), keyed by a static label. Role: AcrPull on this registry."
  nullable    = false
}

variable "acr_push_principal_ids" {
  type        = map(string)
  default     = {}
  description = "Principals that push images with --local-docker, keyed by a static label. Role: AcrPush on this registry."
  nullable    = false
}

variable "private_dns_zone_id" {
  type        = string
  default     = null
  description = "ID of the privatelink.azurecr.io zone; required with private networking."
}

variable "private_endpoint_subnet_id" {
  type        = string
  default     = null
  description = "Subnet for the registry's private endpoint; required with private networking."
}

variable "private_networking_enabled" {
  type        = bool
  default     = false
  description = "When true, the registry gets a private endpoint (Premium SKU)."
  nullable    = false
}

variable "public_network_access_enabled" {
  type        = bool
  default     = true
  description = "Keep the public endpoint (Entra auth still required). ACR remote builds (`az acr build`) need it; turn it off with private networking and push with --local-docker from inside the network."
  nullable    = false
}

variable "sku" {
  type        = string
  default     = "Standard"
  description = "Registry SKU when private networking is off (Premium is forced when it is on)."
  nullable    = false

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.sku)
    error_message = "sku must be Basic, Standard or Premium."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the registry and its private endpoint."
  nullable    = false
}
