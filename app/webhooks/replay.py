"""What a channel's replay of one journal record is given (``app.webhooks.recovery``).

Plain data, no FastAPI app: a channel's replay function needs the settings and the
directory of now, and nothing else of the process.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.config import Settings
from app.routing.snapshot import Directory
from app.webhooks.journal import Record


@dataclass(frozen=True)
class ReplayContext:
    settings: Settings
    directory: Callable[[], Directory]  # the directory of now, loaded once the database is back


# One channel's replay: the record's operations applied in ``session`` at its time.
Replay = Callable[[Session, ReplayContext, Record, datetime], None]
