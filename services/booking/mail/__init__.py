"""Mails for future appointments (R15): a confirmation on booking and a reminder a number of
hours before, from every establishment, with one switch for the whole organization.

- ``queue``: the organization's settings, the queue of mails owed, and the "booking-mails"
  consumer that fills it from the appointment events;
- ``sender``: the worker that sends due mails over SMTP (aiosmtplib) or, without an SMTP
  server, writes them into a mailbox folder; retried until the server takes them, never
  twice;
- ``rendering``: what the mails say.

The switch and the lead time are the owner's (``api/mail.py``); where the mails go is the
environment's (``services/booking/settings.py``).
"""
