"""`python app.py export [--days N] [--out DIR]`: the leads' CSV export, for operators.

Needs only DATABASE_URL (from the environment or .env); writes cases.csv and activity.csv and
prints their paths. A mistake is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.core.config import DEFAULT_DATABASE_URL
from bot.learning import export
from storage.urls import normalise_database_url

USAGE = "usage: python app.py export [--days N] [--out DIR]"


class UsageError(Exception):
    pass


def parse_args(argv: Sequence[str]) -> tuple[int, Path]:
    days, out = export.DEFAULT_DAYS, Path(".")
    args = list(argv)
    while args:
        flag = args.pop(0)
        name, _, inline = flag.partition("=")
        if name not in ("--days", "--out"):
            raise UsageError(f"export: unknown argument {flag!r}; {USAGE}")
        value = inline or (args.pop(0) if args else "")
        if not value:
            raise UsageError(f"export: {name} needs a value; {USAGE}")
        if name == "--days":
            parsed = export.parse_days(value)
            if parsed is None:
                low, high = export.DAYS_RANGE
                raise UsageError(f"export: --days {value!r} must be a whole number from {low} to {high}.")
            days = parsed
        else:
            out = Path(value)
    return days, out


def database_url() -> str:
    raw = (os.environ.get("DATABASE_URL") or "").strip() or DEFAULT_DATABASE_URL
    try:
        return normalise_database_url(raw)
    except ValueError as exc:
        reason = exc if isinstance(exc, ValueError) else "it is not a SQLAlchemy URL"
        raise UsageError(f"export: DATABASE_URL is malformed ({reason}).") from None


def run(argv: Sequence[str]) -> int:
    from storage.db import Database

    try:
        days, out = parse_args(argv)
        url = database_url()
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"export: cannot create the output directory {out} ({exc.strerror}).", file=sys.stderr)
        return 2
    db = Database(url, pool_size=2)
    try:
        db.migrate()
        result = export.write_export(db, out, days=days)
    except OSError as exc:
        print(f"export: cannot write into {out} ({exc.strerror}).", file=sys.stderr)
        return 2
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        print(f"export: the database could not be read ({exc.__class__.__name__}: {reason}); check DATABASE_URL.",
              file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(result.cases_path.resolve())
    print(result.activity_path.resolve())
    print(f"{result.cases} cases, {result.activity} activity rows, last {days} days", file=sys.stderr)
    return 0
