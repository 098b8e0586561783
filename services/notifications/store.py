"""Tables and queries of the notifications service (schema `notifications`)."""

from sqlalchemy import MetaData

from services.common.tables import common_tables

metadata = MetaData(schema="notifications")
TABLES = common_tables(metadata)
