"""python -m services.catalog"""

from services.catalog.service import SPEC
from services.common.runtime import main

main(SPEC)
