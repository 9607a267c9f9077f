output "names" {
  description = "Every resource name Spillway uses, by role (resource groups, vault, registry, apps, identities)."
  value       = local.names
}

output "suffix" {
  description = "Six hex characters derived from subscription, workload and environment; unique part of global names."
  value       = local.suffix
}

output "tags" {
  description = "Standard tags merged with extra_tags."
  value       = local.tags
}
