"""python -m services.payments"""

from services.payments.service import SPEC
from services.common.runtime import main

main(SPEC)
