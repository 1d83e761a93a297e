"""Webhooks for partners (B06): register, list, delete, and each endpoint's deliveries.
OWNER only: an endpoint receives the whole organization's events."""
