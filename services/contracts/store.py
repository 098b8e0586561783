"""Tables and queries of the contracts service (schema `contracts`)."""

from sqlalchemy import MetaData

from services.common.tables import common_tables

metadata = MetaData(schema="contracts")
TABLES = common_tables(metadata)
