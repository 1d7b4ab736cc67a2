"""The Slack side of the escalation move."""
