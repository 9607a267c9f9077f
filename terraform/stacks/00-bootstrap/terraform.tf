terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.42"
    }
  }

  # Local state: this stack creates the remote state storage; `spillway deploy` passes -backend-config=path=terraform/state/<env>/00-bootstrap.tfstate.
  backend "local" {}
}

provider "azurerm" {
  subscription_id     = var.subscription_id
  storage_use_azuread = true

  features {
  }
}
