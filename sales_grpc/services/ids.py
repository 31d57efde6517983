"""New record ids: 24 hexadecimal digits, time-ordered (MongoDB ObjectId's format, which
any store can keep as a string); and the name a process claims work under."""

from __future__ import annotations

import os
import socket
import uuid

from bson import ObjectId


def new_id() -> str:
    return str(ObjectId())


def claimant() -> str:
    """Who holds a lease or a claimed job: host and pid for a person reading the database,
    and a random part so two objects of one process never pass for each other."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
