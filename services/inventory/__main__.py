"""python -m services.inventory"""

from services.inventory.service import SPEC
from services.common.runtime import main

main(SPEC)
