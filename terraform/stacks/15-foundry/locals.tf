locals {
  accounts             = { for a in var.openai_accounts : a.name => a }
  existing_accounts    = { for a in var.existing_openai_accounts : "${a.resource_group_name}/${a.name}" => a }
  names                = module.naming.names
  private_dns_zone_ids = [for z in data.azurerm_private_dns_zone.openai : z.id]
  tags                 = module.naming.tags
}
