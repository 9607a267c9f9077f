output "backends" {
  description = "Provisioned backends in gateway order (read by `spillway deploy workload`): name, endpoint, priority, weight and the Key Vault secret of the key (null: Entra ID auth)."
  value = [
    for name, a in local.accounts : {
      name            = name
      endpoint        = module.openai_account[name].endpoint
      priority        = a.priority
      weight          = a.weight
      key_secret_name = module.openai_account[name].key_secret_name
    }
  ]
}

output "resource_group_name" {
  description = "Resource group of the accounts (exists even when openai_accounts is empty)."
  value       = azurerm_resource_group.foundry.name
}
