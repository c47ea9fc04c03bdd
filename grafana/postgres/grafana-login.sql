-- Gives Grafana a Postgres login of its own: a member of smileid_grafana_reader (created by the
-- migration 20261126040000_grafana_reader), so it reads the views in schema reporting and nothing else.
-- Run by compose's one-shot grafana-login step after migrate, as the database owner; safe to run again
-- (it creates the login once and resets its password every time):
--
--   GRAFANA_DB_PASSWORD=… [GRAFANA_DB_USER=grafana] psql -v ON_ERROR_STOP=1 -f grafana-login.sql
--
-- psql 15 or newer (\getenv). The password comes from the environment, never from this file.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;

\getenv login GRAFANA_DB_USER
\if :{?login}
\else
  \set login grafana
\endif
\getenv password GRAFANA_DB_PASSWORD
\if :{?password}
\else
  \set password ''
\endif

SELECT :'password' = '' AS password_missing,
       EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'login' AND (rolsuper OR rolname = current_user))
         AS login_is_privileged
\gset
\if :password_missing
  DO $$ BEGIN RAISE EXCEPTION 'GRAFANA_DB_PASSWORD is not set'; END $$;
\endif
-- Refuse to demote an administrator by mistake (GRAFANA_DB_USER=postgres).
\if :login_is_privileged
  DO $$ BEGIN RAISE EXCEPTION 'GRAFANA_DB_USER names a superuser or the role running this script'; END $$;
\endif

BEGIN;
SELECT format('CREATE ROLE %I', :'login')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'login')
\gexec
SELECT format(
  'ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 10 PASSWORD %L',
  :'login', :'password')
\gexec
-- Dashboards only read, and a runaway panel query must not hold connections for long.
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'login')
\gexec
SELECT format('ALTER ROLE %I SET statement_timeout = %L', :'login', '15s')
\gexec
SELECT format('ALTER ROLE %I SET search_path = reporting', :'login')
\gexec
SELECT format('GRANT smileid_grafana_reader TO %I', :'login')
\gexec
COMMIT;

\echo Grafana login :login is a member of smileid_grafana_reader
