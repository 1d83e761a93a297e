"""python -m services.payments"""

from services.common.runtime import main
from services.payments.service import SPEC

main(SPEC)
