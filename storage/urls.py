"""DATABASE_URL as operators write it, made into the URL SQLAlchemy and psycopg 3 expect."""

from __future__ import annotations

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
