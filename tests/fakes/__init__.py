"""Local fake servers for Slack's Web API and the model providers, speaking their wire formats."""
