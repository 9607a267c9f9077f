# Example for terraform/env/<env>/15-foundry.tfvars: two regions, same deployment names, so a 429 in one region
# fails over to the other inside the same request. Copy to terraform/env/dev/15-foundry.tfvars and edit.
# No keys here: Terraform writes each account's key straight into Key Vault (azure-openai-key-<name>), and the
# workload references it from there.

openai_accounts = [
  {
    name     = "swe1"
    location = "swedencentral"
    priority = 10
    weight   = 1
    deployments = [
      { name = "gpt-4o-mini", model_name = "gpt-4o-mini", model_version = "2024-07-18", sku_name = "GlobalStandard", capacity = 50 },
      { name = "text-embedding-3-small", model_name = "text-embedding-3-small", model_version = "1", sku_name = "Standard", capacity = 50 },
    ]
  },
  {
    name     = "eus2"
    location = "eastus2"
    priority = 5
    weight   = 1
    deployments = [
      { name = "gpt-4o-mini", model_name = "gpt-4o-mini", model_version = "2024-07-18", sku_name = "GlobalStandard", capacity = 50 },
      { name = "text-embedding-3-small", model_name = "text-embedding-3-small", model_version = "1", sku_name = "Standard", capacity = 50 },
    ]
  },
]

# Accounts created elsewhere that the gateway calls with Entra ID (an AZURE_OPENAI_ENDPOINT_N without a key): the
# backend identity gets Cognitive Services OpenAI User on each.
# existing_openai_accounts = [{ name = "contoso-eastus2", resource_group_name = "rg-shared-ai" }]

# false (DEPLOY_FOUNDRY_LOCAL_AUTH=false): the accounts take Entra ID only, no key is written anywhere, and the
# gateway calls them with the backend identity's token.
local_auth_enabled = true
