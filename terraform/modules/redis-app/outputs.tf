output "host" {
  description = "Host name the gateway connects to inside the environment (the app name)."
  value       = azurerm_container_app.this.name
}

output "port" {
  description = "Redis port exposed inside the environment."
  value       = 6379
}
