"""smtpbot's knowledge: the YAML knowledge base, the bounce parser and the matcher (no network, no Slack)."""
