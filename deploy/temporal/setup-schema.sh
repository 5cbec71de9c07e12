#!/bin/sh
# Temporal's schemas in PostgreSQL (run by the admin-tools image before the server starts):
# create the databases if missing, then bring both schemas to the image's version.
set -eu
for db in temporal temporal_visibility; do
  case "$db" in temporal) dir=temporal ;; *) dir=visibility ;; esac
  tool="temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u $POSTGRES_USER --db $db"
  $tool create || echo "$db exists"
  $tool setup-schema -v 0.0 || echo "$db schema exists"
  $tool update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
