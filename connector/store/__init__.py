"""Storage: SQLAlchemy models, the Alembic migration, sessions and idempotent writes."""
