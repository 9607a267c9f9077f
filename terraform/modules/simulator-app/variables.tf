variable "api_key_secret_name" {
  type        = string
  description = "Key Vault secret holding the simulator API key (the gateway uses the same secret as the backend key)."
  nullable    = false
}

variable "container_app_environment_id" {
  type        = string
  description = "Container Apps environment (the gateway's)."
  nullable    = false
}

variable "identity_id" {
  type        = string
  description = "User-assigned identity that reads the key from Key Vault and pulls the image (the gateway identity)."
  nullable    = false
}

variable "image" {
  type        = string
  description = "Simulator image; its entrypoint is `spillway simulator`."
  nullable    = false
}

variable "instance_name" {
  type        = string
  description = "Simulator instance name (--instance), reported in its responses (ptu1, payg1, ...)."
  nullable    = false
}

variable "key_vault_uri" {
  type        = string
  description = "URI of the environment's vault (ends with '/')."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Container app name."
  nullable    = false
}

variable "registry_server" {
  type        = string
  description = "Login server of the registry holding the simulator image."
  nullable    = false
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the container app."
  nullable    = false
}

variable "args" {
  type        = list(string)
  default     = []
  description = "Arguments appended to `spillway simulator --host 0.0.0.0 --port <port> --instance <name>` (e.g. --base-latency 50)."
  nullable    = false
}

variable "port" {
  type        = number
  default     = 8000
  description = "Port the simulator listens on."
  nullable    = false
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the container app."
  nullable    = false
}
