"""DATABASE_URL as operators write it, made into the URL SQLAlchemy and psycopg 3 expect."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def normalise_database_url(raw: str) -> str:
    """Accept the URL forms operators paste (postgres://, postgresql://) and pick psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError("it is not a SQLAlchemy URL") from None
    backend = url.drivername.split("+", 1)[0]
    if backend in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")  # the driver this project installs
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"the {backend!r} database is not supported; use sqlite:/// or postgresql://")
    if backend == "sqlite" and (url.database or ":memory:") == ":memory:":
        raise ValueError("an in-memory SQLite database loses everything on restart; name a file")
    return url.render_as_string(hide_password=False)


def sqlite_dir_problem(database_url: str) -> str | None:
    """A SQLite file needs a directory this user can write (the file, its -wal and -shm files): what is
    wrong with it, in one line for the operator, or None."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    directory = Path(url.database).resolve().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return (f"DATABASE_URL names a SQLite file in {directory}, which cannot be created ({exc.strerror}): "
                "create the directory, or point DATABASE_URL at a writable place.")
    if not os.access(directory, os.W_OK | os.X_OK):
        return (f"DATABASE_URL names a SQLite file in {directory}, which this user cannot write: "
                "give the user running Defuse write access (chown/chmod) or point DATABASE_URL elsewhere.")
    return None


def load_driver(database_url: str) -> None:
    """Import the URL's database driver and SQLAlchemy's dialect for it now, not at the first connection.
    The app calls this before it forks the posting process, so that both share one copy of these pages
    (psycopg and its dialect are about 8 MB in each process) instead of importing one each."""
    try:
        make_url(database_url).get_dialect().import_dbapi()
    except Exception:  # a bad URL or a missing driver: Database() reports it, with its reason
        return
