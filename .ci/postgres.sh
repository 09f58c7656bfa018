#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests of connector/pgstore.
#
#   eval "$(.ci/postgres.sh start)"   # installs PostgreSQL if missing, starts a cluster, prints the exports
#   go test -race -count=1 ./...      # the pgstore tests use SOARKIT_TEST_POSTGRES_URL
#   .ci/postgres.sh stop              # stops the cluster and deletes its directory
#
# The cluster lives in a temporary directory, listens on 127.0.0.1 on a free port (and on a Unix socket in that
# directory), trusts local connections and runs with fsync off: it is for tests only and holds nothing worth keeping.
# initdb refuses to run as root, so under root the cluster runs as the "postgres" user (created by the Debian
# package) or, failing that, as "nobody". .ci/run sources this file and calls soarkit_postgres_start and
# soarkit_postgres_stop.

# soarkit_postgres_bindir prints the directory holding initdb and pg_ctl, or nothing.
soarkit_postgres_bindir() {
	local dir
	if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
		return
	fi
	# Debian keeps the server binaries out of PATH, one directory per major version: take the newest.
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return
		fi
	done
}

# soarkit_postgres_install installs the distribution's PostgreSQL server with apt-get.
soarkit_postgres_install() {
	local sudo=""
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "postgres.sh: PostgreSQL is not installed and apt-get is not available; install the PostgreSQL server" >&2
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "postgres.sh: PostgreSQL is not installed; run as root or install it: apt-get install postgresql" >&2
			return 1
		fi
		sudo="sudo"
	fi
	echo "postgres.sh: installing PostgreSQL with apt-get" >&2
	$sudo apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends postgresql >&2
}

# soarkit_postgres_user prints the unprivileged user the cluster runs as (empty: the current user).
soarkit_postgres_user() {
	if [ "$(id -u)" != 0 ]; then
		return
	fi
	if id postgres >/dev/null 2>&1; then
		echo postgres
	else
		echo nobody
	fi
}

# soarkit_postgres_as runs a command as user $1 (the current user when empty), from /, since the user may not be
# allowed into the current directory.
soarkit_postgres_as() {
	local user=$1
	shift
	if [ -z "$user" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u "$user" -- "$@")
	else
		(cd / && su -s /bin/sh "$user" -c "$(printf '%q ' "$@")")
	fi
}

# soarkit_postgres_free_port prints a TCP port on 127.0.0.1 that nothing listens on.
soarkit_postgres_free_port() {
	local port
	for port in $(seq 55432 55532); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo "postgres.sh: no free port in 55432-55532" >&2
	return 1
}

# soarkit_postgres_start starts a throw-away cluster and exports SOARKIT_TEST_POSTGRES_URL and SOARKIT_TEST_POSTGRES_DIR.
soarkit_postgres_start() {
	local bindir user dir port
	bindir=$(soarkit_postgres_bindir)
	if [ -z "$bindir" ]; then
		soarkit_postgres_install || return 1
		bindir=$(soarkit_postgres_bindir)
		if [ -z "$bindir" ]; then
			echo "postgres.sh: PostgreSQL installed but initdb/pg_ctl not found" >&2
			return 1
		fi
	fi
	user=$(soarkit_postgres_user)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/soarkit-pg.XXXXXX") || return 1
	chmod 700 "$dir"
	if [ -n "$user" ]; then
		chown "$user" "$dir" || return 1
	fi
	port=$(soarkit_postgres_free_port) || {
		rm -rf "$dir"
		return 1
	}
	if ! soarkit_postgres_as "$user" "$bindir/initdb" -D "$dir/data" -U soarkit --auth=trust -E UTF8 \
		--locale=C --no-sync >"$dir/initdb.log" 2>&1; then
		echo "postgres.sh: initdb failed:" >&2
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		return 1
	fi
	# Throw-away settings: nothing here must survive a crash, so durability is traded for speed.
	cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$dir'
		max_connections = 200
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	EOF
	if ! soarkit_postgres_as "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
		echo "postgres.sh: the server did not start:" >&2
		cat "$dir/server.log" >&2
		rm -rf "$dir"
		return 1
	fi
	export SOARKIT_TEST_POSTGRES_DIR="$dir"
	export SOARKIT_TEST_POSTGRES_URL="postgres://soarkit@127.0.0.1:$port/postgres?sslmode=disable"
	echo "postgres.sh: PostgreSQL ($("$bindir/pg_ctl" --version)) on 127.0.0.1:$port as ${user:-$(id -un)}, data in $dir" >&2
}

# soarkit_postgres_stop stops the cluster in $1 (default $SOARKIT_TEST_POSTGRES_DIR) and deletes its directory.
soarkit_postgres_stop() {
	local dir=${1:-${SOARKIT_TEST_POSTGRES_DIR:-}} bindir owner=""
	if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
		echo "postgres.sh: no cluster to stop (give its directory or set SOARKIT_TEST_POSTGRES_DIR)" >&2
		return 1
	fi
	bindir=$(soarkit_postgres_bindir)
	if [ "$(id -u)" = 0 ]; then
		owner=$(stat -c %U "$dir/data")
	fi
	soarkit_postgres_as "$owner" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}

# Run as a command (not sourced): start prints the exports for eval, stop tears the cluster down.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case "${1:-}" in
	start)
		soarkit_postgres_start
		printf 'export SOARKIT_TEST_POSTGRES_URL=%q\nexport SOARKIT_TEST_POSTGRES_DIR=%q\n' \
			"$SOARKIT_TEST_POSTGRES_URL" "$SOARKIT_TEST_POSTGRES_DIR"
		;;
	stop)
		soarkit_postgres_stop "${2:-}"
		;;
	*)
		echo "usage: eval \"\$($0 start)\"   |   $0 stop [dir]" >&2
		exit 2
		;;
	esac
fi
