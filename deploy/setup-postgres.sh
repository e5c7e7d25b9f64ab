#!/bin/sh
# One-shot schema setup for the compose cluster, run by temporal-admin-tools before the server.
# Safe to run on every `docker compose up`: `create` ignores an existing database, and
# `update-schema` applies only the versions the database does not have yet, so a newer server
# image upgrades the schema.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
DB_PORT="${DB_PORT:-5432}"
# temporal-sql-tool reads the password from here, which keeps it off the command line.
export SQL_PASSWORD="${POSTGRES_PWD}"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS}" -p "${DB_PORT}" \
    -u "${POSTGRES_USER}" "$@"
}

setup_database() { # $1: database, $2: directory of its versioned schema
  echo "schema for database $1"
  sql_tool --db "$1" create
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "$2"
}

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
until nc -z "${POSTGRES_SEEDS}" "${DB_PORT}"; do sleep 1; done

setup_database temporal /etc/temporal/schema/postgresql/v12/temporal/versioned
setup_database temporal_visibility /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "PostgreSQL schema setup complete"
