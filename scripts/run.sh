#!/usr/bin/env bash
# Command 1: set everything up on a fresh clone and serve the app at http://127.0.0.1:5000
# (embedded defaults: SQLite in instance/, e-mails to instance/outbox/, search index built on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv 2>/dev/null || true
[ -x .venv/bin/faqbot ] && .venv/bin/python -c "import faqbot" 2>/dev/null || {
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
}
.venv/bin/faqbot content check
.venv/bin/faqbot index build
echo "faqbot : http://${HOST:-127.0.0.1}:${PORT:-5000}  (console support : /staff ; Ctrl+C pour arrêter)"
# gunicorn, as in production: two workers share the database, the throttle store and the search index.
exec .venv/bin/gunicorn --workers "${WORKERS:-2}" --bind "${HOST:-127.0.0.1}:${PORT:-5000}" "faqbot:create_app()"
