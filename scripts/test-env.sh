#!/usr/bin/env bash
# Makes the test databases of Concord ready on this machine: MariaDB on 127.0.0.1:3306 and PostgreSQL on
# 127.0.0.1:5432, installed, running, configured for XA, with user/role "concord" (password "concord") owning the
# databases "concord" and "concord_other"; also curl and jq, which the README sessions (run by a test) use. Safe to
# run again: each step checks before it acts.
# Needs root (and apt-get) only when something is missing; otherwise it prints what to do by hand and exits 1.
set -euo pipefail

readonly DB_USER=concord
readonly DB_PASSWORD=concord
readonly DB_NAME=concord
readonly DB_OTHER=concord_other
readonly MARIADB_PORT=3306
readonly PG_PORT=5432
readonly PG_PREPARED_TRANSACTIONS=100
readonly PG_CONF_NAME=concord.conf
readonly WAIT_SECONDS=60

readonly MARIADB_SQL="CREATE DATABASE IF NOT EXISTS ${DB_NAME};
CREATE DATABASE IF NOT EXISTS ${DB_OTHER};
CREATE USER IF NOT EXISTS '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
CREATE USER IF NOT EXISTS '${DB_USER}'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}';
ALTER USER '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
ALTER USER '${DB_USER}'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON ${DB_NAME}.* TO '${DB_USER}'@'localhost';
GRANT ALL PRIVILEGES ON ${DB_NAME}.* TO '${DB_USER}'@'127.0.0.1';
GRANT ALL PRIVILEGES ON ${DB_OTHER}.* TO '${DB_USER}'@'localhost';
GRANT ALL PRIVILEGES ON ${DB_OTHER}.* TO '${DB_USER}'@'127.0.0.1';"
# XA RECOVER needs no privilege on MariaDB 10.11 (it has no XA_RECOVER_ADMIN); the check below runs it as concord.

readonly PG_SQL="DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
    CREATE ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASSWORD}';
  ELSE
    ALTER ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASSWORD}';
  END IF;
END\$\$;
SELECT 'CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DB_NAME}')\\gexec
SELECT 'CREATE DATABASE ${DB_OTHER} OWNER ${DB_USER}'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DB_OTHER}')\\gexec
ALTER DATABASE ${DB_NAME} OWNER TO ${DB_USER};
ALTER DATABASE ${DB_OTHER} OWNER TO ${DB_USER};"

log() { printf '%s\n' "$*"; }
warn() { printf 'test-env: warning: %s\n' "$*" >&2; }
die() { printf 'test-env: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
has_systemd() { [ -d /run/systemd/system ]; }

manual_steps() {
  local ver=${1:-<version>}
  cat >&2 <<MANUAL

To prepare the test databases by hand, as root:
  1. Packages:  apt-get update && apt-get install -y mariadb-server postgresql curl jq
  2. PostgreSQL XA:  echo 'max_prepared_transactions = ${PG_PREPARED_TRANSACTIONS}' \\
         > /etc/postgresql/${ver}/main/conf.d/${PG_CONF_NAME}
     then (re)start it:  pg_ctlcluster ${ver} main restart
  3. Start MariaDB if it is not running:  /etc/init.d/mariadb start  (with systemd: systemctl start mariadb)
  4. MariaDB, as root (run: mariadb):
$(printf '%s\n' "${MARIADB_SQL}" | sed 's/^/       /')
  5. PostgreSQL, as the postgres user (run: runuser -u postgres -- psql):
$(printf '%s\n' "${PG_SQL}" | sed 's/^/       /')
Then run this script again to check.
MANUAL
}

need_root() {
  if ! is_root; then
    printf 'test-env: cannot %s without root.\n' "$1" >&2
    manual_steps "${2:-}"
    exit 1
  fi
}

wait_until() { # description, log file, command...
  local what=$1 logfile=$2 deadline=$((SECONDS + WAIT_SECONDS))
  shift 2
  until "$@"; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      die "${what} did not accept connections within ${WAIT_SECONDS} s; see ${logfile}"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- packages
mariadb_installed() {
  [ -x /usr/sbin/mariadbd ] && command -v mariadb >/dev/null && command -v mariadb-admin >/dev/null
}
pg_installed() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null \
    && command -v psql >/dev/null
}

install_missing_packages() {
  local packages=() created_policy=""
  mariadb_installed || packages+=(mariadb-server)
  pg_installed || packages+=(postgresql)
  # The README sessions, which a test runs as written, use curl and jq.
  command -v curl >/dev/null || packages+=(curl)
  command -v jq >/dev/null || packages+=(jq)
  [ "${#packages[@]}" -eq 0 ] && return 0
  if ! is_root || ! command -v apt-get >/dev/null; then
    printf 'test-env: missing packages: %s (installing them needs root and apt-get).\n' "${packages[*]}" >&2
    manual_steps
    exit 1
  fi
  log "packages: installing ${packages[*]}"
  # Without systemd the packages' postinst scripts would try to start the servers through invoke-rc.d; forbid
  # that for the duration of the install (the standard policy-rc.d mechanism) and start them below instead.
  if ! has_systemd && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=yes
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq || die "apt-get update failed"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"; then
    warn "apt-get install reported an error (often a service that cannot start here); finishing the configuration"
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a || warn "dpkg --configure -a reported an error"
  fi
  if [ -n "${created_policy}" ]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  mariadb_installed || die "mariadb-server is still not installed (see the apt-get output above)"
  pg_installed || die "postgresql is still not installed (see the apt-get output above)"
}

# ---------------------------------------------------------------- MariaDB
mariadb_option() { # option name, default
  local value
  value=$(my_print_defaults --mysqld 2>/dev/null | sed -n "s/^--$1=//p" | tail -n 1)
  printf '%s\n' "${value:-$2}"
}

mariadb_alive() {
  mariadb-admin --protocol=TCP -h127.0.0.1 -P"${MARIADB_PORT}" --connect-timeout=2 ping >/dev/null 2>&1
}

MARIADB_START=()
# While waiting: a server that was still shutting down when we started made --oknodo do nothing; start it again.
mariadb_alive_or_restart() {
  mariadb_alive && return 0
  if [ "${#MARIADB_START[@]}" -gt 0 ] && ! start-stop-daemon --status --exec /usr/sbin/mariadbd; then
    "${MARIADB_START[@]}"
  fi
  return 1
}

start_mariadb() {
  if mariadb_alive; then
    log "mariadb: already running"
    return 0
  fi
  need_root "start MariaDB"
  local errlog datadir extra=()
  errlog=$(mariadb_option 'log[-_]error' '')
  if [ -z "${errlog}" ]; then
    errlog=/var/log/mysql/error.log
    extra+=("--log-error=${errlog}")
  fi
  datadir=$(mariadb_option datadir /var/lib/mysql)
  install -d -o mysql -g mysql -m 755 /run/mysqld
  [ -d "$(dirname "${errlog}")" ] || install -d -o mysql -g adm -m 2750 "$(dirname "${errlog}")"
  if [ ! -d "${datadir}/mysql" ]; then
    log "mariadb: initialising ${datadir}"
    mariadb-install-db --user=mysql --datadir="${datadir}" >/dev/null
  fi
  log "mariadb: starting"
  if has_systemd; then
    systemctl start mariadb || die "systemctl start mariadb failed; see journalctl -u mariadb"
  else
    MARIADB_START=(start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
      -- --user=mysql "${extra[@]}")
    "${MARIADB_START[@]}"
  fi
  wait_until "MariaDB on 127.0.0.1:${MARIADB_PORT}" "${errlog}" mariadb_alive_or_restart
  log "mariadb: running"
}

mariadb_as_concord() {
  mariadb --protocol=TCP -h127.0.0.1 -P"${MARIADB_PORT}" -u"${DB_USER}" --password="${DB_PASSWORD}" "${DB_NAME}" "$@"
}

mariadb_user_ok() {
  mariadb_as_concord -e "SELECT 1; USE ${DB_OTHER}; USE ${DB_NAME}; XA RECOVER;" >/dev/null 2>&1
}

provision_mariadb() {
  if mariadb_user_ok; then
    log "mariadb: database ${DB_NAME} and user ${DB_USER} ready"
    return 0
  fi
  need_root "create the MariaDB user ${DB_USER}"
  log "mariadb: creating databases ${DB_NAME}, ${DB_OTHER} and user ${DB_USER}"
  mariadb -uroot <<<"${MARIADB_SQL}"
  local out
  out=$(mariadb_as_concord -e "SELECT 1; USE ${DB_OTHER}; USE ${DB_NAME}; XA RECOVER;" 2>&1) \
    || die "cannot use MariaDB as ${DB_USER} over 127.0.0.1 after creating it: ${out}"
  log "mariadb: database ${DB_NAME} and user ${DB_USER} ready"
}

# ---------------------------------------------------------------- PostgreSQL
pg_version() {
  local dir versions=()
  for dir in /etc/postgresql/*/main; do
    [ -f "${dir}/postgresql.conf" ] && versions+=("$(basename "$(dirname "${dir}")")")
  done
  [ "${#versions[@]}" -gt 0 ] && printf '%s\n' "${versions[@]}" | sort -V | tail -n 1
}

ensure_pg_cluster() {
  PG_VER=$(pg_version || true)
  if [ -z "${PG_VER}" ]; then
    local bin_ver
    bin_ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
    need_root "create the PostgreSQL ${bin_ver} cluster" "${bin_ver}"
    log "postgresql: creating cluster ${bin_ver}/main"
    pg_createcluster "${bin_ver}" main >/dev/null
    PG_VER=$(pg_version) || die "no PostgreSQL cluster under /etc/postgresql after pg_createcluster"
  fi
  local line
  line=$(pg_lsclusters -h | awk -v v="${PG_VER}" '$1 == v && $2 == "main"')
  [ -n "${line}" ] || die "pg_lsclusters does not list cluster ${PG_VER}/main"
  PG_CLUSTER_PORT=$(awk '{print $3}' <<<"${line}")
  PG_LOG=$(awk '{print $7}' <<<"${line}")
  [ "${PG_CLUSTER_PORT}" = "${PG_PORT}" ] \
    || die "PostgreSQL cluster ${PG_VER}/main uses port ${PG_CLUSTER_PORT}; the tests expect ${PG_PORT}"
}

pg_alive() { pg_isready -q -h 127.0.0.1 -p "${PG_PORT}" -t 2; }

pg_cluster_action() { # start | restart
  if has_systemd; then
    systemctl "$1" "postgresql@${PG_VER}-main" || die "systemctl $1 postgresql@${PG_VER}-main failed; see ${PG_LOG}"
  else
    pg_ctlcluster --skip-systemctl-redirect "${PG_VER}" main "$1" || die "pg_ctlcluster $1 failed; see ${PG_LOG}"
  fi
  wait_until "PostgreSQL ${PG_VER} on 127.0.0.1:${PG_PORT}" "${PG_LOG}" pg_alive
}

ensure_pg_config() {
  local conf_dir="/etc/postgresql/${PG_VER}/main/conf.d"
  local conf="${conf_dir}/${PG_CONF_NAME}"
  local wanted="max_prepared_transactions = ${PG_PREPARED_TRANSACTIONS}"
  if grep -qxF "${wanted}" "${conf}" 2>/dev/null; then
    return 0
  fi
  if ! is_root; then
    warn "cannot write ${conf} without root; relying on the running value"
    return 0
  fi
  install -d -o postgres -g postgres -m 755 "${conf_dir}"
  printf '# Written by Concord scripts/test-env.sh: XA (PREPARE TRANSACTION) needs prepared transactions.\n%s\n' \
    "${wanted}" >"${conf}"
  log "postgresql: wrote ${conf}"
}

start_pg() {
  if pg_alive; then
    log "postgresql ${PG_VER}: already running"
    return 0
  fi
  need_root "start PostgreSQL" "${PG_VER}"
  log "postgresql ${PG_VER}: starting"
  pg_cluster_action start
  log "postgresql ${PG_VER}: running"
}

pg_admin() { (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "${PG_PORT}" "$@"); }

pg_as_concord() { # database, psql arguments...
  local db=$1
  shift
  PGPASSWORD="${DB_PASSWORD}" PGCONNECT_TIMEOUT=5 \
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PG_PORT}" -U "${DB_USER}" -d "${db}" "$@"
}

pg_role_ok() {
  pg_as_concord "${DB_NAME}" -Atc 'SELECT 1' >/dev/null 2>&1 \
    && pg_as_concord "${DB_OTHER}" -Atc 'SELECT 1' >/dev/null 2>&1 \
    && [ "$(pg_as_concord "${DB_NAME}" -Atc 'SELECT pg_get_userbyid(datdba) FROM pg_database
          WHERE datname = current_database()' 2>/dev/null)" = "${DB_USER}" ]
}

provision_pg() {
  if pg_role_ok; then
    log "postgresql: database ${DB_NAME} and role ${DB_USER} ready"
    return 0
  fi
  need_root "create the PostgreSQL role ${DB_USER}" "${PG_VER}"
  log "postgresql: creating role ${DB_USER} and databases ${DB_NAME}, ${DB_OTHER}"
  pg_admin -d postgres <<<"${PG_SQL}" >/dev/null
  local out
  out=$(pg_as_concord "${DB_NAME}" -Atc 'SELECT 1' 2>&1) \
    || die "cannot use PostgreSQL as ${DB_USER} over 127.0.0.1 after creating it: ${out}"
  log "postgresql: database ${DB_NAME} and role ${DB_USER} ready"
}

ensure_pg_prepared_transactions() {
  local running
  running=$(pg_as_concord "${DB_NAME}" -Atc 'SHOW max_prepared_transactions')
  if [ "${running}" = "${PG_PREPARED_TRANSACTIONS}" ]; then
    log "postgresql: max_prepared_transactions = ${running}"
    return 0
  fi
  need_root "restart PostgreSQL" "${PG_VER}"
  log "postgresql ${PG_VER}: restarting (max_prepared_transactions is ${running}, want ${PG_PREPARED_TRANSACTIONS})"
  pg_cluster_action restart
  running=$(pg_as_concord "${DB_NAME}" -Atc 'SHOW max_prepared_transactions')
  if [ "${running}" != "${PG_PREPARED_TRANSACTIONS}" ]; then
    local source
    source=$(pg_as_concord "${DB_NAME}" -Atc "SELECT coalesce(sourcefile, source) || ':' || coalesce(sourceline, 0)
              FROM pg_settings WHERE name = 'max_prepared_transactions'" 2>/dev/null || true)
    die "max_prepared_transactions is still ${running} after the restart; it is set in ${source:-an unknown place}"
  fi
  log "postgresql: max_prepared_transactions = ${running}"
}

# ---------------------------------------------------------------- main
install_missing_packages
start_mariadb
provision_mariadb
ensure_pg_cluster
ensure_pg_config
start_pg
provision_pg
ensure_pg_prepared_transactions
log "test-env: ready (MariaDB 127.0.0.1:${MARIADB_PORT}, PostgreSQL ${PG_VER} 127.0.0.1:${PG_PORT}, user ${DB_USER})"
