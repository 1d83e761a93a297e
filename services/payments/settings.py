"""The payments service's own settings, from environment variables (prefix SALON_).

- ``SALON_PAYMENTS_KEY``: the Fernet key (32 url-safe base64 bytes) that encrypts the payment
  providers' API keys at rest (R32). Empty: connecting a provider is refused. The launcher
  creates one in its data folder.
- ``SALON_MOLLIE_API_URL``: the Mollie API (``https://api.mollie.com``); tests point it at a
  local server that plays the provider.
- ``SALON_PUBLIC_URL``: the gateway's public address, for the provider's webhook
  (``<public url>/webhooks/mollie``). Empty: no webhook is sent; a deposit then waits for
  the next refresh.
- ``SALON_CHECKOUT_RECOVERY_SECONDS``: a checkout attempt still pending after this long is
  taken as crashed: its stock reservation is released (60).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PaymentsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALON_", extra="ignore")

    payments_key: str = Field(default="", repr=False)
    mollie_api_url: str = "https://api.mollie.com"
    public_url: str = ""
    checkout_recovery_seconds: float = Field(default=60.0, gt=0, le=86400)
