"""The Slack side: one folder per playbook move (listeners, ids, Block Kit views, form checks), and
handlers/slack, the one Slack surface they share."""

from slack_bolt import App

from handlers.services import Services
from handlers.slack.context import provide


def register(app: App, services: Services) -> None:
    from handlers import actions, casefile, casefile_views, commands, home, reminders, shortcuts, views

    app.use(provide(services))
    defuse = services.defuse
    commands.register(app, defuse)
    actions.register(app, defuse)
    views.register(app, defuse)
    casefile.register(app, defuse)
    casefile_views.register(app, defuse)
    shortcuts.register(app, defuse)
    reminders.register(app, defuse)
    home.register(app, defuse)
