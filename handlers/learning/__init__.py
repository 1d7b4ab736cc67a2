"""The Slack side of the learning move."""
