from services.common.migrations import run
from services.qualification.store import metadata

run(metadata)
