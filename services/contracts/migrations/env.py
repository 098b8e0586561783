from services.common.migrations import run
from services.contracts.store import metadata

run(metadata)
