"""Thin Bolt listeners: parse Slack's payload, call bot/, render the answer."""

from slack_bolt import App

from bot.service import Defuse


def register(app: App, defuse: Defuse) -> None:
    from handlers import actions, casefile, casefile_views, commands, home, reminders, shortcuts, views

    commands.register(app, defuse)
    actions.register(app, defuse)
    views.register(app, defuse)
    casefile.register(app, defuse)
    casefile_views.register(app, defuse)
    shortcuts.register(app, defuse)
    reminders.register(app, defuse)
    home.register(app, defuse)
