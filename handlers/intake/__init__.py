"""The Slack side of the intake move."""
