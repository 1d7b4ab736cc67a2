"""Persistence: SQLAlchemy models, repositories and migrations. Knows nothing of Slack."""
