"""The Slack side of the checklist move."""
