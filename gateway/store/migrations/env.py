from gateway.store.tables import metadata
from services.common.migrations import run_env

run_env(metadata)
