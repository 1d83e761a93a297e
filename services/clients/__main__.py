"""python -m services.clients"""

from services.clients.service import SPEC
from services.common.runtime import main

main(SPEC)
