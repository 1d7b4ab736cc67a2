"""The Slack side of the followups move."""
