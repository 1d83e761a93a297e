"""Campaign messages (R30) on their way out.

- ``sender``: the worker that sends the campaigns' pending messages, e-mail through the
  shared mail path (services/common/mail.py), SMS through ``sms``; a claim per message,
  retries with backoff;
- ``sms``: the pluggable SMS senders (a folder of JSON files, or an HTTP endpoint).

What a campaign is and who receives it is ``domain/marketing.py``; the RPCs are
``api/marketing.py``.
"""
