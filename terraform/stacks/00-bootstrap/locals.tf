locals {
  names = module.naming.names
  tags  = module.naming.tags
  # Storage network rules take bare IPs, not /32 CIDRs.
  state_ip_rules = [for r in var.state_allowed_ip_ranges : trimsuffix(r, "/32")]
}
