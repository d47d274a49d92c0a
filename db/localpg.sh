#!/usr/bin/env bash
# A project-local PostgreSQL on a unix socket, for `make run` and `make test`
# when DATABASE_URL is unset.
#
#   db/localpg.sh start DIR PORT   start (initialising if needed); prints DATABASE_URL
#   db/localpg.sh fresh DIR PORT   wipe DIR, then start (throwaway, tuned for tests)
#   db/localpg.sh stop DIR         stop the server in DIR
#
# With LOCALPG_TCP=1 a new cluster also listens on 127.0.0.1:PORT and the
# URL printed is over TCP (make bench-pages measures that way).
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user. Debian's postgresql is installed when no server binaries
# are found.
set -euo pipefail

cmd=${1:?usage: localpg.sh start|fresh|stop DIR [PORT]}
dir=${2:?DIR required}
port=${3:-5433}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

log() { echo "localpg: $*" >&2; }

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    if [ "$(id -u)" != 0 ]; then
      log "PostgreSQL server binaries not found; install Debian's postgresql package"; exit 1
    fi
    log "installing Debian's postgresql (first run only)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

# as_pg runs a command as the database owner: postgres when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

sockdir() {
  # Unix socket paths are limited to 107 bytes; fall back to /tmp when the
  # repository lives deep.
  local s="$dir/sock"
  if [ ${#s} -gt 80 ]; then
    s="/tmp/webstore-pg-$(echo "$dir" | md5sum | cut -c1-12)"
  fi
  echo "$s"
}

start() {
  local bin sock data
  bin=$(bindir)
  sock=$(sockdir)
  data="$dir/data"
  mkdir -p "$sock"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir" "$sock"
    chmod 0755 "$dir"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising $data"
    as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '$([ "${LOCALPG_TCP:-}" = 1 ] && echo 127.0.0.1)'
unix_socket_directories = '$sock'
port = $port
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 15min
max_connections = 200
EOF
    if [ "${THROWAWAY:-}" = 1 ]; then
      # A test cluster is wiped after use: durability buys nothing there.
      printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$data/postgresql.conf"
    fi
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
  if ! as_pg "$bin/psql" -h "$sock" -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='webstore'" | grep -q 1; then
    as_pg "$bin/createdb" -h "$sock" -p "$port" -U postgres webstore
  fi
  if [ "${LOCALPG_TCP:-}" = 1 ]; then
    echo "postgres://postgres@127.0.0.1:$port/webstore?sslmode=disable"
  else
    echo "postgres://postgres@/webstore?host=$sock&port=$port&sslmode=disable"
  fi
}

stop() {
  local bin
  bin=$(bindir)
  if [ -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "$cmd" in
  start) start ;;
  fresh)
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    THROWAWAY=1 start
    ;;
  stop) stop ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac
