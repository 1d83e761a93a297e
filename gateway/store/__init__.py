"""The gateway's own database: organizations, users, memberships, sessions, audit log,
webhooks."""

# Row-level security (services/common/rls.py) is on for the five services' databases, not
# yet for this one: the gateway's transactions do not set their organization yet, and
# several of its lookups come before any organization is known (login by e-mail, the
# session token, public pages by organization slug). Until they say so (with
# `db.read(organization_id=...)` or `db.read(across_organizations=True)`), migrating this
# database leaves its tables without RLS; README "Run at scale" says what is left.
ROW_LEVEL_SECURITY = False
