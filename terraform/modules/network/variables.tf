variable "location" {
  type        = string
  description = "Region of the virtual network."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Name of the virtual network."
  nullable    = false
}

variable "private_dns_zone_names" {
  type        = list(string)
  description = "Private DNS zones to create and link to the network (one per private-link service in use)."
  nullable    = false
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the network and its DNS zones."
  nullable    = false
}

variable "subnet_names" {
  type = object({
    container_apps    = string
    private_endpoints = string
  })
  description = "Names of the two subnets (from the naming module)."
  nullable    = false
}

variable "address_space" {
  type        = list(string)
  default     = ["10.40.0.0/16"]
  description = "Address space of the virtual network; must contain both subnet prefixes and not overlap peered networks."
  nullable    = false
}

variable "container_apps_subnet_prefix" {
  type        = string
  default     = "10.40.0.0/23"
  description = "CIDR of the subnet delegated to the Container Apps environment (workload profiles need at least /27)."
  nullable    = false

  validation {
    condition     = can(cidrhost(var.container_apps_subnet_prefix, 0)) && tonumber(split("/", var.container_apps_subnet_prefix)[1]) <= 27
    error_message = "container_apps_subnet_prefix must be a CIDR of /27 or larger (e.g. 10.40.0.0/23)."
  }
}

variable "private_endpoint_subnet_prefix" {
  type        = string
  default     = "10.40.2.0/24"
  description = "CIDR of the subnet holding private endpoints (Key Vault, registry, Azure OpenAI)."
  nullable    = false

  validation {
    condition     = can(cidrhost(var.private_endpoint_subnet_prefix, 0))
    error_message = "private_endpoint_subnet_prefix must be a CIDR such as 10.40.2.0/24."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the network resources."
  nullable    = false
}
