"""Tables and queries of the qualification service (schema `qualification`)."""

from sqlalchemy import Column, DateTime, MetaData, String, Table

from services.common.tables import common_tables

metadata = MetaData(schema="qualification")
TABLES = common_tables(metadata)

providers = Table(
    "providers", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("companies_house_number", String(8)),
    Column("contact_email", String(320), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
