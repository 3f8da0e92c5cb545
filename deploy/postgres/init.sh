#!/bin/sh
# Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d):
# a role and a database for shardflow, next to the ones Temporal's auto-setup creates for itself.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE shardflow LOGIN PASSWORD '${SHARDFLOW_DB_PASSWORD:-shardflow}';
CREATE DATABASE shardflow OWNER shardflow;
SQL
