"""smtpbot front ends: the command router, Slack app, console chat and CLI."""
