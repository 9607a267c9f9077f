variable "location" {
  type        = string
  description = "Region of the private endpoint (the virtual network's region)."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Name of the private endpoint, e.g. pe-<resource name>."
  nullable    = false
}

variable "private_dns_zone_ids" {
  type        = list(string)
  description = "Private DNS zones that receive the endpoint's A records (e.g. privatelink.vaultcore.azure.net)."
  nullable    = false

  validation {
    condition     = length(var.private_dns_zone_ids) > 0
    error_message = "private_dns_zone_ids needs at least one zone, otherwise clients keep resolving the public address."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the private endpoint."
  nullable    = false
}

variable "subnet_id" {
  type        = string
  description = "Subnet the endpoint's network interface is placed in."
  nullable    = false
}

variable "subresource_names" {
  type        = list(string)
  description = "Private link group IDs of the target: vault, registry or account."
  nullable    = false
}

variable "target_resource_id" {
  type        = string
  description = "Resource ID of the Key Vault, registry or Azure OpenAI account to reach privately."
  nullable    = false
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the private endpoint."
  nullable    = false
}
