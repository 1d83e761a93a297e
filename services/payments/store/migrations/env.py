from services.common.migrations import run_env
from services.payments.store.tables import metadata

run_env(metadata)
