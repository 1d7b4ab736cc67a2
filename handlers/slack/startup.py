"""Start-up checks on the Slack side: the token (auth.test once, so no request pays for it), and the
two warnings Bolt gives about our deliberate setup."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.config import ConfigError
from handlers.slack.surface import AUTH_ERRORS, error_code

log = logging.getLogger("defuse")


@dataclass(frozen=True)
class Installation:
    """What auth.test says about the token: the bot, the workspace it is installed in, and its address."""

    bot_user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    url: str | None = None  # https://<workspace>.slack.com/


def check_token(client: WebClient) -> Installation:
    """auth.test once at start, so no request pays for it. A refused token is a config problem."""
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=3, retry_handlers=[])
    try:
        result = probe.auth_test()
        return Installation(result.get("user_id"), result.get("bot_id"), result.get("team_id"),
                            result.get("enterprise_id"), result.get("url"))
    except SlackApiError as exc:
        if error_code(exc) in AUTH_ERRORS:
            raise ConfigError(
                [f"SLACK_BOT_TOKEN was refused by Slack ({error_code(exc)}): reinstall the app and copy a fresh xoxb- token."]
            ) from None
        log.warning("auth.test answered %s; carrying on", error_code(exc))
    except Exception as exc:
        # Serving without Slack would only look healthy: a supervisor's restart is the better retry.
        raise ConfigError(
            [f"Slack is not reachable at SLACK_API_URL {client.base_url} ({_one_line(exc)}): check the network, "
             "a proxy (HTTPS_PROXY/NO_PROXY) or the URL, then start again."]
        ) from None
    return Installation()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or exc.__class__.__name__


class DeliberateSetup(logging.Filter):
    """Drops Bolt's two start-up warnings about our own setup: we pass a client (for SLACK_API_URL and
    retries) and an authorize function (so no request pays for auth.test), and Bolt then notes that
    the SLACK_BOT_TOKEN it also finds in the environment goes unused. That is what we want."""

    EXPECTED = ("`token` will be unused", "will be ignored")

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and any(e in record.getMessage() for e in self.EXPECTED))
