# Example for terraform/env/<env>/10-platform.tfvars: network layout when DEPLOY_PRIVATE_NETWORKING=true.

virtual_network_address_space  = ["10.40.0.0/16"]
container_apps_subnet_prefix   = "10.40.0.0/23"
private_endpoint_subnet_prefix = "10.40.2.0/24"
container_registry_sku         = "Standard"
