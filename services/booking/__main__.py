"""python -m services.booking"""

from services.booking.service import SPEC
from services.common.runtime import main

main(SPEC)
