"""What the parts read from their environment: the deployment files may set nothing else."""

from __future__ import annotations

from gateway.settings import GatewaySettings
from services.booking.settings import MailerSettings
from services.clients.settings import MarketingSettings
from services.common import tracing
from services.common.settings import ServiceSettings
from services.payments.settings import PaymentsSettings

# Every setting of every part, as its environment variable (SALON_<FIELD>).
KNOWN_SETTINGS = (
    frozenset(
        f"SALON_{name.upper()}"
        for model in (
            ServiceSettings,
            GatewaySettings,
            MailerSettings,
            MarketingSettings,
            PaymentsSettings,
        )
        for name in model.model_fields
    )
    # Traces: the OTEL_* variables services/common/tracing.py and the OpenTelemetry SDK read.
    | tracing.VARIABLES
)
