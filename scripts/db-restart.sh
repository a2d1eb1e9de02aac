#!/usr/bin/env bash
# Restarts one test database server and waits until it accepts connections again; used by the tests that check
# that prepared XA branches survive a server restart. Usage: scripts/db-restart.sh mariadb|postgresql
# Stops the server cleanly, then lets scripts/test-env.sh start it (same start commands, same bounded waits).
set -euo pipefail

readonly WAIT_SECONDS=60
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { printf 'db-restart: error: %s\n' "$*" >&2; exit 1; }

wait_until_stopped() { # description, command that succeeds while the server still runs...
  local what=$1 deadline=$((SECONDS + WAIT_SECONDS))
  shift
  while "$@"; do
    [ "${SECONDS}" -lt "${deadline}" ] || die "${what} did not stop within ${WAIT_SECONDS} s"
    sleep 0.2
  done
}

mariadb_process_running() { start-stop-daemon --status --exec /usr/sbin/mariadbd; }

pg_version() {
  local dir versions=()
  for dir in /etc/postgresql/*/main; do
    [ -f "${dir}/postgresql.conf" ] && versions+=("$(basename "$(dirname "${dir}")")")
  done
  [ "${#versions[@]}" -gt 0 ] || die "no PostgreSQL cluster under /etc/postgresql"
  printf '%s\n' "${versions[@]}" | sort -V | tail -n 1
}

[ "$(id -u)" -eq 0 ] || die "restarting a database server needs root"
case "${1:-}" in
  mariadb)
    echo "db-restart: stopping MariaDB"
    if [ -d /run/systemd/system ]; then
      systemctl stop mariadb
    else
      mariadb-admin -uroot shutdown
      wait_until_stopped "MariaDB" mariadb_process_running
    fi
    ;;
  postgresql)
    ver=$(pg_version)
    echo "db-restart: stopping PostgreSQL ${ver}"
    if [ -d /run/systemd/system ]; then
      systemctl stop "postgresql@${ver}-main"
    else
      pg_ctlcluster --skip-systemctl-redirect "${ver}" main stop
    fi
    ;;
  *)
    die "usage: $0 mariadb|postgresql"
    ;;
esac
exec "${here}/test-env.sh"
