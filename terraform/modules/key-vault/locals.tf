locals {
  restrict_public = var.private_networking_enabled || length(var.allowed_ip_ranges) > 0
}
