"""What the gateway refuses before doing any work (OWASP GraphQL cheat sheet): documents too
deep, too aliased, too long or too costly, pages above 100, batches, bodies above
SALON_MAX_BODY_BYTES, and logins after too many failures.

- limits.py: the limits (from GatewaySettings) and the schema extensions that apply them;
- document.py: depth and aliases, a validation rule (cached with the document's validation);
- cost.py: `first` capped and the operation's static cost, with the request's variables;
- body.py: the request body cap, an ASGI middleware;
- login.py: failed logins counted in the gateway's database, shared by every replica.
"""

from gateway.protection.body import BodySizeLimit
from gateway.protection.limits import Limits, schema_extensions
from gateway.protection.login import LoginThrottle

__all__ = ["BodySizeLimit", "Limits", "LoginThrottle", "schema_extensions"]
