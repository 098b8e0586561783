"""Tables and queries of the referral service (schema `referral`)."""

from sqlalchemy import MetaData

from services.common.tables import common_tables

metadata = MetaData(schema="referral")
TABLES = common_tables(metadata)
