"""The Slack side: one folder per playbook move (ids, Block Kit views, listeners), and handlers/slack,
the one Slack surface they share."""

from slack_bolt import App

from handlers.services import Services
from handlers.slack.context import provide


def register(app: App, services: Services) -> None:
    from handlers.casefile import listeners as casefile
    from handlers.checklist import listeners as checklist
    from handlers.closing import listeners as closing
    from handlers.escalation import listeners as escalation
    from handlers.followups import listeners as followups
    from handlers.handoff import listeners as handoff
    from handlers.home import listeners as home
    from handlers.intake import listeners as intake

    app.use(provide(services))
    for move in (intake, checklist, casefile, handoff, escalation, closing, followups, home):
        routes = {app.action: "ACTIONS", app.view: "VIEWS", app.event: "EVENTS", app.command: "COMMANDS",
                  app.shortcut: "SHORTCUTS"}
        for listen, table in routes.items():
            for key, listener in getattr(move, table, {}).items():
                listen(key)(listener)
