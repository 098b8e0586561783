from services.common.migrations import run
from services.referral.store import metadata

run(metadata)
