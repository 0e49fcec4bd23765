"""Re-encrypting every stored secret value under the newest encryption key.

Run after adding a new key ahead of the old ones in ``HOTLINE_ENCRYPTION_KEY`` (and
restarting every process, so new values already use it). Every column whose name ends in
``_encrypted`` is visited in primary-key order, a batch per transaction: a value that the
newest key alone can read is left as it is, so an interrupted run simply starts again and
does the rest. When it reports nothing left under an old key, the old key can be dropped.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, Table, select, update
from sqlalchemy.orm import Session

from app.db import Base
from app.privacy import crypto

BATCH = 500


@dataclass
class RotationReport:
    re_encrypted: dict[str, int] = field(default_factory=dict)   # "table.column": count
    already_current: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)     # under no key given

    def total(self, which: dict[str, int]) -> int:
        return sum(which.values())


def encrypted_columns() -> Iterator[tuple[Table, Column[str]]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_encrypted"):
                yield table, column


def rotate(make_session: Callable[[], Session], key: str, batch: int = BATCH
           ) -> RotationReport:
    """Re-encrypt every value not yet under the newest key; commits once per batch."""
    report = RotationReport()
    for table, column in encrypted_columns():
        name = f"{table.name}.{column.name}"
        for counts in _rotate_column(make_session, table, column, key, batch):
            for bucket, n in zip((report.re_encrypted, report.already_current,
                                  report.unreadable), counts, strict=True):
                bucket[name] = bucket.get(name, 0) + n
    return report


def _rotate_column(make_session: Callable[[], Session], table: Table, column: Column[str],
                   key: str, batch: int) -> Iterator[tuple[int, int, int]]:
    primary: Column[object]
    (primary,) = table.primary_key.columns  # every table with secrets has a one-column key
    newest = Fernet(crypto.primary_only(key).encode())
    after = None
    while True:
        with make_session() as session, session.begin():
            query = (select(primary, column).where(column.is_not(None))
                     .order_by(primary).limit(batch))
            if after is not None:
                query = query.where(primary > after)
            rows = session.execute(query).all()
            if not rows:
                return
            counts = [0, 0, 0]
            for row_id, token in rows:
                counts[_rotate_value(session, table, primary, column, row_id, token,
                                     newest, key)] += 1
            after = rows[-1][0]
        yield counts[0], counts[1], counts[2]


def _rotate_value(session: Session, table: Table, primary: Column[object],
                  column: Column[str], row_id: object, token: str, newest: Fernet,
                  key: str) -> int:
    """0: re-encrypted, 1: already under the newest key, 2: no key given reads it."""
    try:
        newest.decrypt(token.encode())
        return 1
    except InvalidToken:
        pass
    try:
        plaintext = crypto.decrypt(key, token)
    except InvalidToken:
        return 2
    session.execute(update(table).where(primary == row_id)
                    .values({column.name: crypto.encrypt(key, plaintext)}))
    return 0
