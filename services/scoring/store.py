"""The scoring service's schema `scoring`: only the common tables (outbox, processed events,
audit); scoring is stateless and has no tables or queries of its own (RULES §6)."""

from sqlalchemy import MetaData

from services.common.tables import common_tables

metadata = MetaData(schema="scoring")
TABLES = common_tables(metadata)
