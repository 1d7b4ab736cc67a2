"""The Slack side: one folder per playbook move (ids, Block Kit views, listeners), and handlers/slack,
the one Slack surface they share."""

from types import ModuleType

from slack_bolt import App

from handlers.services import Services
from handlers.slack.context import provide


def moves() -> tuple[ModuleType, ...]:
    """Each playbook move's listener module. Imported here, not at the top: they import handlers.services,
    which imports this package. The app calls this before it forks its posting process, which runs some of
    these listeners' work (handlers.slack.posting), so that both share the pages of one import."""
    from handlers.casefile import listeners as casefile
    from handlers.checklist import listeners as checklist
    from handlers.closing import listeners as closing
    from handlers.escalation import listeners as escalation
    from handlers.followups import listeners as followups
    from handlers.handoff import listeners as handoff
    from handlers.home import listeners as home
    from handlers.intake import listeners as intake

    return intake, checklist, casefile, handoff, escalation, closing, followups, home


def register(app: App, services: Services) -> None:
    app.use(provide(services))
    for move in moves():
        routes = {app.action: "ACTIONS", app.view: "VIEWS", app.event: "EVENTS", app.command: "COMMANDS",
                  app.shortcut: "SHORTCUTS"}
        for listen, table in routes.items():
            for key, listener in getattr(move, table, {}).items():
                listen(key)(listener)
