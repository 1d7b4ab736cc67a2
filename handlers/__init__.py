"""Thin Bolt listeners: parse Slack's payload, call bot/, render the answer."""

from slack_bolt import App

from bot.service import Defuse


def register(app: App, defuse: Defuse) -> None:
    from handlers import actions, commands, views

    commands.register(app, defuse)
    actions.register(app, defuse)
    views.register(app, defuse)
