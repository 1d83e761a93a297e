# Row-level security (services/common/rls.py) applies here as in the services' databases:
# every transaction names its organization (the session's, or the event's), and the
# lookups that come before one is known say so by name (`grep -rn across_organizations=True
# gateway`): the session token (gateway/context.py, gateway/events/websocket.py), login by
# e-mail and sign-up (gateway/schema/tenancy/mutations.py), public pages by slug or
# establishment (gateway/schema/booking/public.py), the webhook sender's scan and claim.
# Two tables have no organization_id and so no policy: `organizations` (its id is the
# organization; name and slug are public through the booking page) and `login_failures`
# (counted before any organization is known).
