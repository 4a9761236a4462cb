#!/bin/sh
# One-shot schema job for Temporal's own databases (service `temporal-admin-tools`, image
# temporalio/admin-tools, which ships temporal-sql-tool and the versioned schema files).
#
# Creates the two databases Temporal needs on the shared PostgreSQL and brings their schemas to
# the version of this admin-tools image. Safe to run on every `docker compose up`:
#   - `create` ignores a database that already exists,
#   - `setup-schema -v 0.0` skips a database that is already versioned,
#   - `update-schema` applies only the missing versioned steps.
# Upgrade Temporal by raising TEMPORAL_ADMINTOOLS_VERSION and TEMPORAL_VERSION together: this job
# runs (and must succeed) before the new server starts.
#
# The app's own database (POSTGRES_DB, migrated by TypeORM) is not touched here.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (PostgreSQL host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${POSTGRES_PWD:?POSTGRES_PWD is required}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
MAX_ATTEMPTS="${SETUP_MAX_ATTEMPTS:-60}"
SLEEP_SECONDS="${SETUP_SLEEP_SECONDS:-2}"

# temporal-sql-tool reads the password from SQL_PASSWORD: keeps it out of argv (and `ps`).
SQL_PASSWORD="$POSTGRES_PWD"
export SQL_PASSWORD

attempt=1
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do
  if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
    echo "PostgreSQL at $POSTGRES_SEEDS:$DB_PORT did not answer after $MAX_ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$SLEEP_SECONDS"
done

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

# setup_db DATABASE SCHEMA_SUBDIR
setup_db() {
  echo "Temporal schema: database '$1' ($2)"
  sql_tool --db "$1" create
  sql_tool --db "$1" setup-schema -v 0.0
  sql_tool --db "$1" update-schema -d "$SCHEMA_DIR/$2/versioned"
}

setup_db "$DBNAME" temporal
setup_db "$VISIBILITY_DBNAME" visibility
echo "Temporal schema is up to date"
