"""The gateway's side of the events: the audit log's consumer (B04), the fan-out of events
to GraphQL subscriptions (B06), the event types' messages, and the catalogue generator
that writes docs/events.md."""
