#!/usr/bin/env bash
# Creates Taskchat's database role and database. docker-compose.yml mounts this folder
# at /docker-entrypoint-initdb.d, where the postgres image runs it once, as the
# superuser, when the data volume is first initialised (never again afterwards: changing
# TASKCHAT_DB_PASSWORD later does not change the role's password; see docs/deployment.md).
#
# The app must not connect as a superuser: row-level security is forced on its tables,
# and superusers (and BYPASSRLS roles) skip it. So `taskchat` is an ordinary login role
# that owns its database; the migrations run as it and create the tables, policies and
# FORCE ROW LEVEL SECURITY as their owner. They need no extension or other privilege.
#
# Not `set -u`: if this file loses its executable bit the entrypoint sources it, and
# the option would then apply to the rest of the entrypoint too.
set -eo pipefail

: "${TASKCHAT_DB_PASSWORD:?TASKCHAT_DB_PASSWORD must be set for the db service}"

# The password goes through psql's \getenv and :'...' quoting: it never appears on a
# command line, and quotes in it cannot break the statement.
psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" <<'SQL'
\getenv taskchat_password TASKCHAT_DB_PASSWORD
CREATE ROLE taskchat WITH LOGIN PASSWORD :'taskchat_password'
    NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE DATABASE taskchat OWNER taskchat;
-- Only its owner (and the superuser) may connect to it.
REVOKE ALL ON DATABASE taskchat FROM PUBLIC;
SQL
