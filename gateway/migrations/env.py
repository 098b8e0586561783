from gateway.store import metadata
from services.common.migrations import run

run(metadata)
