from services.common.migrations import run
from services.scoring.store import metadata

run(metadata)
