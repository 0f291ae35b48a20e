"""A supplier feed's credentials: kept apart from its URL, sealed with the SecretBox, and never shown.

`suppliers.source` holds the URL without credentials; `suppliers.credentials` the sealed
`connector.outbound.credentials.Credentials` that the fetcher adds to its request. Credentials belong to
the origin (scheme, host and port) they were given for: a feed moved to another origin without new ones
is fetched without any. `seal_stored_sources` moves credentials out of URLs stored before migration 0010
(it needs CONNECTOR_SECRET_KEY, so `connector db upgrade` runs it; a refresh of such a feed splits them too).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.crypto import SecretBox
from connector.errors import ConfigError
from connector.outbound.credentials import Credentials, split_credentials
from connector.store.db import Database
from connector.store.models import Supplier

log = logging.getLogger(__name__)
_URL_FEED = or_(Supplier.source.like("http://%"), Supplier.source.like("https://%"))
# Only these stored URLs can hold credentials: a user name (`@`) or a query (`?`).
_MAY_HOLD_CREDENTIALS = (_URL_FEED, or_(Supplier.source.like("%@%"), Supplier.source.like("%?%")))


def require_box(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise ConfigError("CONNECTOR_SECRET_KEY", "is required to store or use a feed's credentials "
                                                  "(make one with `connector secret-key`)")
    return box


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL; an unparsable one is its own origin."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return url, "", None


def opened(box: SecretBox | None, sealed: str | None) -> Credentials:
    """The credentials in `sealed` (none when there are none)."""
    return Credentials.from_dict(require_box(box).open(sealed)) if sealed else Credentials()


def sealed(box: SecretBox | None, credentials: Credentials) -> str | None:
    """`credentials` as stored: sealed, or None when there are none."""
    return require_box(box).seal(credentials.as_dict()) if credentials else None


def credential_kinds(box: SecretBox | None, supplier: Supplier) -> list[str]:
    """What the supplier's stored credentials are, by name only; ["sealed"] when they cannot be opened here."""
    if not supplier.credentials:
        return []
    try:
        return opened(box, supplier.credentials).kinds()
    except ConfigError:
        return ["sealed"]


def sources_holding_credentials(session: Session) -> list[Supplier]:
    """Suppliers whose stored URL still has a user name, password or secret query value in it."""
    candidates = session.scalars(select(Supplier).where(*_MAY_HOLD_CREDENTIALS).with_for_update())
    return [supplier for supplier in candidates if split_credentials(supplier.source)[1]]


def count_sources_holding_credentials(db: Database) -> int:
    """How many stored feed URLs still hold credentials (a read that takes no write lock)."""
    with db.reading() as connection:
        candidates = connection.scalars(select(Supplier.source).where(*_MAY_HOLD_CREDENTIALS))
        return sum(1 for source in candidates if split_credentials(source)[1])


def seal_stored_credentials(db: Database, box: SecretBox) -> int:
    """`seal_stored_sources` in its own transaction, taken only when some stored URL needs it."""
    if not count_sources_holding_credentials(db):
        return 0
    with db.session() as session:
        return seal_stored_sources(session, box)


def seal_stored_sources(session: Session, box: SecretBox) -> int:
    """Move the credentials out of every stored feed URL into its sealed column (merged over any sealed
    ones, the URL's winning), in the caller's transaction; how many feeds changed."""
    changed = 0
    for supplier in sources_holding_credentials(session):
        clean, embedded = split_credentials(supplier.source)
        supplier.credentials = sealed(box, opened(box, supplier.credentials).merged(embedded))
        supplier.source = clean
        changed += 1
    if changed:
        log.info("moved the credentials of %d stored feed URL(s) into sealed storage", changed)
    return changed

