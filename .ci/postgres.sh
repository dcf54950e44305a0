# Sourced by .ci/run (as root): a throwaway PostgreSQL server on 127.0.0.1 for the tests
# that share one study between processes (tests/test_postgres.py). Installs Debian's
# postgresql package when missing, starts a cluster in a temporary directory as the
# postgres user on a free port, creates a role with a password and its database, exports
# FAIRAUTOML_TEST_POSTGRES_URL, and stops the cluster when the calling shell exits.

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_dir="$(mktemp -d /tmp/fairautoml-pg.XXXXXX)"
chown postgres: "$pg_dir"
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pg_password="$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
pg_as() { (cd "$pg_dir" && runuser -u postgres -- "$@"); }
pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 >/dev/null
pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
pg_stop() {
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap pg_stop EXIT
pg_as "$pg_bin/psql" -h "$pg_dir" -p "$pg_port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE fairautoml LOGIN PASSWORD '$pg_password'" \
    -c "CREATE DATABASE fairautoml OWNER fairautoml" >/dev/null
export FAIRAUTOML_TEST_POSTGRES_URL="postgresql://fairautoml:$pg_password@127.0.0.1:$pg_port/fairautoml"
echo "PostgreSQL $(basename "$(dirname "$pg_bin")") on 127.0.0.1:$pg_port"
