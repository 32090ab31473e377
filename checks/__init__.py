"""Live checks of mail domains and servers: pure async functions that return findings (no Slack)."""
