#!/usr/bin/env bash
# A throwaway PostgreSQL server for pa-gen's tests and benchmarks: never a
# system service, never one left running.
#
#   scripts/pg-server.sh start DIR   initdb into DIR/data (once), start the server on a
#                                    Unix socket in DIR (no TCP), wait until it accepts
#                                    connections, print the environment for it
#   scripts/pg-server.sh env DIR     print that environment again (sh `export` lines)
#   scripts/pg-server.sh stop DIR    stop it (fast shutdown; waits)
#   scripts/pg-server.sh remove DIR  stop it and delete DIR
#
# The environment names what examples/planalign's `postgres` target reads
# with env_var(): PA_PG_HOST (the socket folder), PA_PG_PORT, PA_PG_USER,
# PA_PG_PASSWORD (empty: local connections are trusted), PA_PG_DATABASE; and
# PA_PG_BIN, the folder of the server's programs (psql, createdb).
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` system user (created when missing), which then owns DIR.
# Keep DIR short: a socket path has at most 107 bytes.
set -euo pipefail

usage() { echo "usage: $0 start|env|stop|remove DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
command=$1
dir=$(realpath -m "$2")
port=${PA_PG_PORT:-5432}
role=pa_gen
database=pa_gen

bindir=
for candidate in /usr/lib/postgresql/*/bin; do
  [[ -x $candidate/pg_ctl ]] && bindir=$candidate  # the newest installed
done
if [[ -z $bindir ]]; then
  echo "pg-server: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl); run scripts/setup.sh" >&2
  exit 3
fi

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

print_env() {
  echo "export PA_PG_HOST='$dir' PA_PG_PORT='$port' PA_PG_USER='$role' PA_PG_PASSWORD='' PA_PG_DATABASE='$database' PA_PG_BIN='$bindir'"
}

start() {
  if (( ${#dir} + 16 > 107 )); then
    echo "pg-server: '$dir' is too long for a Unix socket path" >&2
    exit 2
  fi
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    getent passwd postgres >/dev/null ||
      useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    chown postgres: "$dir"
  fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_server_user "$bindir/initdb" -D "$dir/data" -U "$role" --auth=trust --encoding=UTF8 \
      --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # No TCP: the socket in DIR is the only way in, so servers in different
  # folders never collide. fsync off: a throwaway server needs no durability.
  as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k '$dir' -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
  for _ in $(seq 1 100); do
    "$bindir/pg_isready" -q -h "$dir" -p "$port" && break
    sleep 0.1
  done
  "$bindir/pg_isready" -q -h "$dir" -p "$port" || { echo "pg-server: server in $dir does not accept connections" >&2; exit 1; }
  if [[ -z $("$bindir/psql" -h "$dir" -p "$port" -U "$role" -d postgres -Atc \
        "select 1 from pg_database where datname = '$database'") ]]; then
    "$bindir/createdb" -h "$dir" -p "$port" -U "$role" "$database"
  fi
  print_env
}

stop() {
  if [[ -f $dir/data/postmaster.pid ]]; then
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
}

case $command in
  start) start ;;
  env) print_env ;;
  stop) stop ;;
  remove) stop; rm -rf "$dir" ;;
  *) usage ;;
esac
