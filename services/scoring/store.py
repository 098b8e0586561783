"""Tables and queries of the scoring service (schema `scoring`)."""

from sqlalchemy import MetaData

from services.common.tables import common_tables

metadata = MetaData(schema="scoring")
TABLES = common_tables(metadata)
