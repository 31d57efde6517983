"""The driver's session behind a use case's Session."""

from __future__ import annotations

from typing import cast

from pymongo.asynchronous.client_session import AsyncClientSession

from ..services.ports import Session


def driver_session(session: Session | None) -> AsyncClientSession | None:
    """The AsyncClientSession a port's Session is here: the adapters take the ports' Session
    type (so mypy checks them against the ports) and hand it to PyMongo as its own. Only
    Mongo.run_transaction makes the sessions they are given; a cast is enough, since PyMongo
    refuses any other kind (TypeError) before sending anything."""
    return cast(AsyncClientSession | None, session)
