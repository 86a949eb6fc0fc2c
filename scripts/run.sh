#!/usr/bin/env bash
# Command 1: set everything up on a fresh clone and serve the app at http://127.0.0.1:5000
# (embedded defaults: SQLite in instance/, e-mails to instance/outbox/, search index built on first run).
# Says what it is doing at each step (pip shows its own progress), serves the first page as soon as it can, and
# runs the full FAQ check once the site answers. PORT, HOST and WORKERS change where and how it serves.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
WORKERS=${WORKERS:-2}
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

step "1/3 Environnement Python (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! .venv/bin/python -c "import faqbot, gunicorn" 2>/dev/null; then
  step "2/3 Installation de faqbot et de ses dépendances (pip affiche sa progression)"
  # --no-compile: no .pyc for the ~40 packages up front; Python compiles what it imports, when it imports it.
  .venv/bin/python -m pip install --no-compile --progress-bar on --disable-pip-version-check -e . 2>&1 \
    | grep --line-buffered -v "^WARNING: Location 'file:" || true
  .venv/bin/python -c "import faqbot, gunicorn" || { echo "L’installation a échoué (voir ci-dessus)." >&2; exit 1; }
else
  step "2/3 Dépendances déjà installées"
fi

step "3/3 Serveur gunicorn (${WORKERS} workers) sur http://${HOST}:${PORT} ; au premier lancement, la base et l’index de recherche sont créés"
# gunicorn, as in production: the workers share the database, the throttle store and the search index. The first
# worker to start migrates the database and builds the index (file locks); a separate `index build` process
# would only load everything once more.
.venv/bin/gunicorn --workers "$WORKERS" --bind "${HOST}:${PORT}" "faqbot:create_app()" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; exit 0' INT TERM
until .venv/bin/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://${HOST}:${PORT}/" 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || { echo "gunicorn s’est arrêté (voir ci-dessus)." >&2; exit 1; }
  sleep 0.3
done
step "Prêt : http://${HOST}:${PORT}  (console support : /staff ; Ctrl+C pour arrêter)"

# The full content check (near-duplicates, coverage of the export) takes a while: it runs once the site answers.
.venv/bin/faqbot content check | tail -n 2 || echo "Contrôle de la FAQ : des anomalies sont signalées ci-dessus." >&2
wait "$server"
