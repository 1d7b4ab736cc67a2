"""The database's failures under storage's names, so the domain tells them apart without SQLAlchemy."""

from sqlalchemy import exc

Conflict = exc.IntegrityError  # a unique key was taken by a concurrent writer
DatabaseError = exc.SQLAlchemyError  # anything the database or the driver refused
ConnectionLost = exc.DBAPIError  # the driver lost or could not reach the server
