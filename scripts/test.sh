#!/usr/bin/env bash
# Command 2: install what the tests need (Python packages, Debian's chromium, postgresql and redis-server),
# start a throw-away PostgreSQL, and run the whole suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv 2>/dev/null || true
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)  # the Redis throttling store is tested for real
[ -x /usr/sbin/dovecot ] || need_apt+=(dovecot-imapd)  # `faqbot mail fetch` is tested against a real IMAP server
command -v npm >/dev/null || need_apt+=(npm)  # axe-core, the accessibility gate of the browser suite
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# axe-core from the npm registry, at the version locked in tests/browser/package-lock.json; Playwright injects it.
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

# A private PostgreSQL cluster on a free loopback port, removed on exit.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDATA=$(mktemp -d /tmp/faqbot-pg.XXXXXX)
PGPORT=${FAQBOT_TEST_PGPORT:-$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$PGDATA"
stop_pg() { as_pg "$PGBIN/pg_ctl -D $PGDATA -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$PGDATA"; }
IMAPDIR=""
stop_all() {
  stop_pg
  if [ -n "$IMAPDIR" ]; then
    [ -f "$IMAPDIR/run/master.pid" ] && kill "$(cat "$IMAPDIR/run/master.pid")" 2>/dev/null || true
    rm -rf "$IMAPDIR"
  fi
}
trap stop_all EXIT
as_pg "$PGBIN/initdb -D $PGDATA -A trust -U postgres --no-sync" >/dev/null
as_pg "$PGBIN/pg_ctl -D $PGDATA -w -l $PGDATA/server.log -o \"-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null
as_pg "$PGBIN/createdb -h 127.0.0.1 -p $PGPORT -U postgres faqbot_test"
export FAQBOT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PGPORT/faqbot_test"

# A private Dovecot (IMAP) on a free loopback port with one mailbox, removed on exit (tests/dovecot.conf.template).
IMAPDIR=$(mktemp -d /tmp/faqbot-imap.XXXXXX)
IMAPPORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
IMAPPASSWORD=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(12))')
mkdir -p "$IMAPDIR/run" "$IMAPDIR/state" "$IMAPDIR/mail"
echo "support:{PLAIN}$IMAPPASSWORD" > "$IMAPDIR/users"
if [ "$(id -u)" -eq 0 ]; then  # Dovecot refuses to run its login and mail processes as root
  IMAPUSER=dovecot; IMAPGROUP=dovecot; IMAPLOGIN=dovenull; chown -R dovecot:dovecot "$IMAPDIR"
else
  IMAPUSER=$(id -un); IMAPGROUP=$(id -gn); IMAPLOGIN=$IMAPUSER
fi
sed -e "s#@DIR@#$IMAPDIR#g" -e "s#@PORT@#$IMAPPORT#g" -e "s#@USER@#$IMAPUSER#g" -e "s#@GROUP@#$IMAPGROUP#g" \
  -e "s#@LOGIN_USER@#$IMAPLOGIN#g" tests/dovecot.conf.template > "$IMAPDIR/dovecot.conf"
/usr/sbin/dovecot -c "$IMAPDIR/dovecot.conf"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$IMAPPORT") 2>/dev/null && break; sleep 0.1; done
export FAQBOT_TEST_IMAP_HOST=127.0.0.1 FAQBOT_TEST_IMAP_PORT=$IMAPPORT FAQBOT_TEST_IMAP_USER=support
export FAQBOT_TEST_IMAP_PASSWORD=$IMAPPASSWORD

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ $status -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit $status
