"""Defuse entry point: `python app.py`.

Reads configuration from the environment (a .env file first), migrates the database (in a short-lived child),
then serves Slack over HTTP (waitress, POST /slack/events, GET /healthz) or Socket Mode when SLACK_APP_TOKEN is
set. SIGTERM/SIGINT stop it within 10 seconds; scheduled work lives in the database.
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 11):  # checked before any import that needs a newer Python
    found = ".".join(str(part) for part in sys.version_info[:3])
    sys.exit(f"Defuse needs Python 3.11 or newer; this is Python {found}. Install 3.11+ and recreate .venv with it.")

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dotenv import load_dotenv
from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

import handlers
from bot.casefile.service import CaseFile
from bot.cases import Cases
from bot.checklist.service import Checklist
from bot.closing.service import Closing
from bot.core.config import Config, ConfigError, load_config
from bot.core.notify import Notify
from bot.core.people import DmChannels, People
from bot.core.reminders import ReminderEngine
from bot.core.snapshot import Clock, utcnow
from bot.core.tick import TickRunner
from bot.delivery.audience import Audiences
from bot.delivery.history import HistoryCheck
from bot.delivery.leases import process_name
from bot.delivery.posting import CasePoster
from bot.delivery.publisher import Publisher
from bot.delivery.routing import Channels, HomeTeam, Router
from bot.delivery.sweep import Sweep
from bot.escalation.service import Escalation
from bot.followups.answers import FollowUpAnswers
from bot.followups.hooks import FollowUpHooks
from bot.followups.records import Reminders
from bot.followups.sending import ReminderSender
from bot.handoff.records import Handoffs
from bot.handoff.service import SecondContact
from bot.intake.service import Intake
from bot.learning.digest import Digest
from bot.learning.retention import Retention
from bot.learning.trend import TrendChart
from handlers.checklist.views import CaseViews
from handlers.closing.views import ClosingViews
from handlers.escalation.views import EscalationViews
from handlers.followups.views import ReminderViews
from handlers.handoff.views import HandoffViews
from handlers.intake.views import retry_post
from handlers.learning.chart import draw_trend
from handlers.learning.export import Exports
from handlers.services import Services
from handlers.slack.blockkit import check_views
from handlers.slack.guard import protect_bolt
from handlers.slack.http_server import bind_http, serve_http, wsgi_app
from handlers.slack.posting import Posting, PostingProcess
from handlers.slack.posting_child import fork_posting_child, serve_posting
from handlers.slack.startup import DeliberateSetup, check_token
from handlers.slack.surface import SlackSurface, make_client
from handlers.slack.worker import Worker
from storage.db import Database
from storage.migrating import migrate_apart
from storage.urls import load_driver, sqlite_dir_problem

log = logging.getLogger("defuse")
LISTENER_THREADS = 32
STOP_DEADLINE_SECONDS = 9.0


@dataclass
class Runtime:
    config: Config
    db: Database
    client: WebClient
    bolt: App
    services: Services
    executor: ThreadPoolExecutor
    scheduler: Any = None
    team_id: str | None = None  # this installation's workspace (auth.test); requests from others are refused
    enterprise_id: str | None = None


def build(config: Config) -> Runtime:
    if problem := sqlite_dir_problem(config.database_url):
        raise ConfigError([problem])
    db = Database(config.database_url)
    migrate_apart(db)
    worker = Worker()
    client = make_client(config.bot_token, config.api_url)
    installed = check_token(client)

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None = None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=config.bot_token,
                               bot_user_id=installed.bot_user_id, bot_id=installed.bot_id)

    bolt_logger = logging.getLogger("defuse.bolt")
    bolt_logger.addFilter(DeliberateSetup())
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    bolt = App(
        client=client,
        signing_secret=config.signing_secret or "",
        authorize=authorize,
        listener_executor=executor,
        logger=bolt_logger,
    )
    # The reminder tick reschedules on 429 itself instead of sleeping through Retry-After.
    reminder_client = make_client(config.bot_token, config.api_url, timeout=5, retries=False)
    slack = SlackSurface(client, workspace_url=installed.url)
    services, sweep, sender = wire(config, db, slack, SlackSurface(reminder_client), worker)
    handlers.register(bolt, services)
    protect_bolt(bolt)
    engine = ReminderEngine(db, sender.deliver, prepare=sender.prepare)
    retention = Retention(db, config.retention_days) if config.retention_days else None
    digest = make_digest(config, db, SlackSurface(reminder_client))
    jobs = [job.on_tick for job in (retention, digest) if job is not None]
    scheduler = TickRunner(engine, config.tick_seconds, on_tick=after_tick(worker, sweep, jobs))
    command = [sys.executable, os.path.abspath(__file__), "posting", str(os.getpid())]
    services.posting.process = PostingProcess(command, on_lost=lambda: worker.submit(sweep),
                                              workspace_url=installed.url or "")
    return Runtime(config, db, client, bolt, services, executor, scheduler, installed.team_id, installed.enterprise_id)


def make_digest(config: Config, db: Database, slack: SlackSurface) -> Digest | None:
    """The weekly digest, with its trend chart, when DIGEST_CHANNEL is set."""
    if not config.digest_channel:
        return None
    chart = TrendChart(db, slack, config.digest_channel, draw_trend)
    return Digest(db, slack, config.digest_channel, config.digest_schedule, chart=chart.send)


def wire(config: Config, db: Database, slack: SlackSurface, reminder_slack: SlackSurface, worker: Worker,
         clock: Clock = utcnow) -> tuple[Services, Sweep, ReminderSender]:
    """Every move's service, each given its collaborators; the sweep (it finishes interrupted
    deliveries: at start, the first tick being at once, and on every tick) and the reminder sender."""
    cases = Cases(db, clock=clock, hooks=FollowUpHooks(config), playbook=config.playbook)
    dms = DmChannels(db, slack)
    notify = Notify(slack, dms.remember)
    people = People(db, slack, cases.clock)
    history = HistoryCheck(db, slack, cases.clock)
    channels = Channels(config.cases_channel, config.escalation_channel, config.product_feedback_channel)
    router = Router(channels, Audiences(slack, HomeTeam(slack)), notify)
    publisher = Publisher(cases, slack, router, CasePoster(cases, slack, history, CaseViews(), process_name()))
    handoffs = Handoffs(cases)
    second_contact = SecondContact(cases, handoffs, publisher, router, notify, history, people, dms, HandoffViews())
    closing = Closing(cases, publisher, router, notify, people, handoffs, second_contact, ClosingViews())
    reminders = Reminders(config, cases, people)
    services = Services(
        config=config, slack=slack, worker=worker, cases=cases, people=people, notify=notify, router=router,
        publisher=publisher, intake=Intake(cases, publisher, worker.within), checklist=Checklist(cases, publisher),
        casefile=CaseFile(cases, publisher, notify), handoffs=handoffs, second_contact=second_contact,
        escalation=Escalation(cases, publisher, router, notify, EscalationViews()), closing=closing,
        reminders=reminders, answers=FollowUpAnswers(config, cases, reminders, closing, notify, ReminderViews()),
        posting=Posting(worker),
    )
    services.exports = Exports(services)
    sweep = Sweep(cases, publisher, history, notify, second_contact.finish_dm, retry_post)
    sender = ReminderSender(config, cases, people, DmChannels(db, reminder_slack),
                            HistoryCheck(db, reminder_slack, cases.clock), ReminderViews())
    return services, sweep, sender


def after_tick(worker: Worker, sweep: Sweep, jobs: list[Callable[[Any], None]]) -> Callable[[Any], None]:
    """What runs after every reminder tick: the daily and weekly jobs (retention, digest; each returns at
    once, its work runs on its own thread) and the delivery sweep. Each is guarded on its own, so one
    job's trouble never holds up the others or finishing deliveries."""

    def on_tick(stats: Any) -> None:
        for job in jobs:
            try:
                job(stats)
            except Exception:
                log.exception("scheduled job hook failed; the next tick tries again")
        worker.submit(sweep)
    return on_tick


def _stop_watchdog() -> None:
    """Whatever is still running after the deadline, the process ends: the database has the state."""
    timer = threading.Timer(STOP_DEADLINE_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def shutdown(runtime: Runtime) -> None:
    started = time.monotonic()
    if runtime.scheduler is not None:
        runtime.scheduler.stop()
    process = runtime.services.posting.process
    if process is not None:  # it stops taking cases now and finishes its queue while this process does
        process.close()
    runtime.executor.shutdown(wait=True, cancel_futures=True)
    runtime.services.worker.drain(timeout=6.0)  # requests already acked: finish them if time allows
    if process is not None:
        process.stop(timeout=max(0.5, 7.5 - (time.monotonic() - started)))
    runtime.db.dispose()


def serve_socket_mode(runtime: Runtime, stop: threading.Event) -> None:
    from handlers.slack import socket_mode

    health_port = runtime.config.port if os.environ.get("PORT", "").strip() else None  # /healthz only if asked
    socket_mode.serve(runtime.bolt, runtime.config.app_token or "", runtime.config.api_url, runtime.db.ping, stop,
                      runtime.services.worker.request, health_port)


def report(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(f"config error: {problem}", file=sys.stderr)


def main() -> int:
    load_dotenv(".env", override=False)
    if sys.argv[1:2] == ["export"]:  # the operators' CSV export: needs only DATABASE_URL
        from bot.learning.export_cli import run

        return run(sys.argv[2:])
    if sys.argv[1:2] == ["posting"]:  # the posting process, started by the app itself (handlers.slack.posting)
        return serve_posting(int(sys.argv[2]), wire)
    try:
        config = load_config(os.environ)
    except ConfigError as exc:
        report(exc)
        return 2
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for chatty in ("apscheduler", "alembic"):  # their INFO lines say nothing an operator needs
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(config.log_level)))
    check_views(False)  # the tests render every view with slack_sdk's checks; requests need not pay for them again
    handlers.moves()  # with the database driver, imported before the fork: the posting process uses both and
    load_driver(config.database_url)  # shares their pages instead of importing a copy of its own
    first_posting = fork_posting_child(lambda pid: serve_posting(pid, wire))  # before any thread or connection
    try:
        runtime = build(config)
    except ConfigError as exc:
        report(exc)
        return 2
    except Exception as exc:
        kind, reason = getattr(exc, "kind", type(exc).__name__), " ".join(str(exc).split())[:300]  # MigrationFailed.kind
        print(f"config error: DATABASE_URL could not be opened or migrated ({kind}: {reason}). "
              "Check the URL, that the server is up, and that the user may create tables.", file=sys.stderr)
        return 2

    try:
        server = None if config.socket_mode else bind_http(wsgi_app(
            runtime.bolt, config.signing_secret or "", runtime.team_id, runtime.enterprise_id, runtime.db.ping,
            runtime.services.worker.request), config.port)
    except ConfigError as exc:
        report(exc)
        runtime.db.dispose()
        return 2
    stop = threading.Event()
    runtime.scheduler.start()
    if runtime.services.posting.process is not None:
        runtime.services.posting.process.start(first_posting)

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            return
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()
        _stop_watchdog()
        if not config.socket_mode:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    code = 0
    try:
        if config.socket_mode:
            serve_socket_mode(runtime, stop)
        else:
            serve_http(server, config.port)
    except SystemExit:
        pass
    except ConfigError as exc:
        report(exc)
        code = 2
    finally:
        shutdown(runtime)
    log.info("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
