"""The Slack side of the closing move."""
