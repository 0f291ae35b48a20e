"""One-time tokens (OAuth state nonces, wc-auth user ids): issued with a lifetime, used at most once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from connector.store.db import rows_changed
from connector.store.models import OneTimeToken, utcnow


def purge_expired_tokens(session: Session) -> int:
    """Delete every token past its expiry (used or not); how many went."""
    return rows_changed(session, delete(OneTimeToken).where(OneTimeToken.expires_at <= utcnow())
                        .execution_options(synchronize_session=False))


def issue_token(session: Session, token: str, *, purpose: str, subject: str, lifetime: timedelta) -> None:
    """Store `token` for `purpose`, bound to `subject` (a shop domain or store URL); expired ones are purged
    first, so abandoned installs leave nothing behind."""
    purge_expired_tokens(session)
    session.add(OneTimeToken(token=token, purpose=purpose, subject=subject, expires_at=utcnow() + lifetime))
    session.flush()


def consume_token(session: Session, token: str, *, purpose: str, subject: str | None = None) -> str | None:
    """Mark `token` used and return its subject; None when unknown, expired, used, or for another subject.

    The conditional UPDATE is the gate: of two requests racing with one token, exactly one changes
    the row, so a token can never be used twice even across processes.
    """
    now = utcnow()
    stored_subject = session.scalar(
        select(OneTimeToken.subject).where(OneTimeToken.token == token, OneTimeToken.purpose == purpose)
    )
    if stored_subject is None or (subject is not None and stored_subject != subject):
        return None
    claimed = rows_changed(
        session,
        update(OneTimeToken)
        .where(
            OneTimeToken.token == token,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return stored_subject if claimed == 1 else None
