"""The Slack side of the handoff move."""
