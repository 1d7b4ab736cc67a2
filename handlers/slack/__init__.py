"""The one Slack surface: the Web API adapter behind bot.core.ports.Slack, Block Kit primitives,
form parsing, the post-ack worker and the middleware that hands listeners their services and ids."""
