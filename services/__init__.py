"""DPS platform services.

psycopg 3 blocks the eventlet hub unless its wait function is switched before psycopg is
first imported (DESIGN.md, measured: 8 × pg_sleep(0.5) took 4.19 s → 0.66 s). Every
service module is imported through this package, so this is the earliest safe place.
"""

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_selector")
