"""python -m services.inventory"""

from services.common.runtime import main
from services.inventory.service import SPEC

main(SPEC)
