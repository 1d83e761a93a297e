"""Webhooks for partners (B06): an organization's HTTPS endpoints receive its events, signed
with the Standard Webhooks scheme (signing.py), each URL checked against loopback and private
addresses in production (urls.py). The gateway's `gateway-webhooks` consumer adds one
delivery per matching endpoint of the event's organization, never another's (consumer.py);
the sender sends the due ones, claimed with a lease, retried with backoff (sender.py)."""
