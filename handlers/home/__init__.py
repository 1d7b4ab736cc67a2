"""The Slack side of the home move."""
