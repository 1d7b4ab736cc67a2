"""`/angry export [days]`: leads get the CSV export (bot.learning.export) in a DM with the app.

The command is acked at once ("preparing…"); checking a user group, building the files and
uploading them (files.getUploadURLExternal → the bytes → files.completeUploadExternal, through
slack_sdk's files_upload_v2) happen afterwards, one export at a time per process so a big export
never takes the threads that answer Slack.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond

from bot import texts
from bot.core.ports import SlackFailure
from bot.core.textutil import safe_limited_echo
from bot.learning import export
from bot.learning.leads import LeadCheck, Verdict
from handlers.common import ephemeral, reported
from storage.errors import DatabaseError

if TYPE_CHECKING:
    from handlers.services import Services

log = logging.getLogger("defuse.export")


class Exports:
    def __init__(self, services: Services):
        self.services = services
        self.leads = LeadCheck(services.config.leads, services.slack)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")

    def command(self, ack: Ack, command: dict[str, Any], respond: Respond, word: str | None) -> None:
        """Answer within the ack: a bad number or a known non-lead is told at once; leads get "preparing"."""
        days = export.parse_days(word)
        if days is None:
            low, high = export.DAYS_RANGE
            ack(text=texts.EXPORT_BAD_DAYS.format(word=safe_limited_echo(word or "", 20), low=low, high=high,
                                                  default=export.DEFAULT_DAYS))
            return
        user = command.get("user_id") or ""
        verdict = self.leads.quick(user)
        if verdict is not None and not verdict.allowed:
            ack(text=verdict.message)
            return
        ack(text=texts.EXPORT_PREPARING.format(days=days))
        tell = ephemeral(respond)
        self._pool.submit(self._run, user, days, verdict, tell)

    def _run(self, user: str, days: int, verdict: Verdict | None, tell: Callable[[str], Any]) -> None:
        with reported(tell, f"export for {user}"):
            verdict = verdict or self.leads.check(user)
            if not verdict.allowed:
                tell(verdict.message or texts.GENERIC_FAILURE)
                return
            with tempfile.TemporaryDirectory(prefix="defuse-export-") as tmp:
                try:
                    result = export.write_export(self.services.cases.db, Path(tmp), days=days, clock=self.services.cases.clock)
                except DatabaseError:
                    log.exception("building the export failed")
                    tell(texts.EXPORT_BUILD_FAILED)
                    return
                try:
                    self._send(user, days, result)
                except SlackFailure as exc:
                    code = exc.code
                    log.warning("sending the export to %s failed: %s", user, code)
                    tell(texts.EXPORT_FAILED.format(error=code, hint=texts.EXPORT_FAILED_HINTS.get(code, texts.EXPORT_FAILED_HINT)))
                    return
            tell(texts.EXPORT_SENT.format(cases=result.cases, activity=result.activity))

    def _send(self, user: str, days: int, result: export.ExportResult) -> None:
        slack = self.services.slack
        channel = slack.open_dm(user)
        stamp = result.until.strftime("%Y-%m-%d")
        names = (f"defuse-cases-{stamp}.csv", f"defuse-activity-{stamp}.csv")
        comment = texts.EXPORT_DM_COMMENT.format(
            days=days, start=result.since.strftime("%Y-%m-%d"), end=stamp, cases=result.cases,
            cases_file=names[0], activity=result.activity, activity_file=names[1],
        )
        slack.upload(channel, [(str(result.cases_path), names[0]), (str(result.activity_path), names[1])], comment=comment)
