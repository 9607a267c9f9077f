terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.42"
    }
  }

  # Partial config: `spillway deploy` passes the bootstrap storage account and key <env>/15-foundry.tfstate.
  backend "azurerm" {}
}

provider "azurerm" {
  subscription_id     = var.subscription_id
  storage_use_azuread = true

  features {
    cognitive_account {
      purge_soft_delete_on_destroy = false
    }
  }
}
