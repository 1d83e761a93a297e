#!/bin/sh
# One role and one database per part of salon, each role owning its own database and
# nothing else (no superuser, no BYPASSRLS: row-level security applies to it), and no one
# else allowed to connect to it.
#
# The postgres image runs this once, on its first start with an empty data directory
# (mounted into /docker-entrypoint-initdb.d by deploy/compose.yaml). It may be sourced by
# the image's entrypoint rather than executed, so it sets no shell options and never exits.
#
# Environment: SALON_DB_PASSWORD (the password of every part's role; hex or another
# URL-safe string, since it goes into SALON_DATABASE_URL), POSTGRES_USER (the superuser,
# "postgres"), SALON_DATABASES (the parts; every part by default). psql connects the way
# libpq does (PGHOST, PGPORT...): the image's init server listens on its Unix socket.

salon_create_databases() {
    for salon_part in ${SALON_DATABASES:-gateway clients catalog inventory booking payments}; do
        psql --no-psqlrc --set ON_ERROR_STOP=1 --quiet \
            --username "${POSTGRES_USER:-postgres}" --dbname postgres \
            --set part="$salon_part" --set password="${SALON_DB_PASSWORD:?SALON_DB_PASSWORD is not set}" <<'SQL' || return 1
CREATE ROLE :"part" LOGIN PASSWORD :'password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE :"part" OWNER :"part";
REVOKE ALL ON DATABASE :"part" FROM PUBLIC;
SQL
        echo "salon: database and role \"$salon_part\" created"
    done
}

salon_create_databases
