from services.common.migrations import run
from services.notifications.store import metadata

run(metadata)
