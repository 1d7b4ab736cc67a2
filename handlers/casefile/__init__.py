"""The Slack side of the casefile move."""
