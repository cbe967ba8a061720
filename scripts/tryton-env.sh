#!/usr/bin/env bash
# A real Tryton for the ERP tests and `make demo` (hub/demo.py): its own venv (.venv-tryton) with trytond
# and the modules party, product, production, sale, purchase and stock from PyPI, and a template
# database initialised once (trytond-admin takes about a minute) and then copied by each test.
# Idempotent and cached: rerun only when the pinned versions below change.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${TRYTON_VENV:-.venv-tryton}
SERIES=7.0  # Tryton's long-term-support series
MODULES=(party product production sale purchase stock)
STAMP="$VENV/.installed-$SERIES"
PYTHON=${PYTHON:-python3}

if [ ! -f "$STAMP" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  specs=("trytond>=$SERIES,<$SERIES.99")
  for m in "${MODULES[@]}"; do specs+=("trytond_$m>=$SERIES,<$SERIES.99"); done
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${specs[@]}"
  touch "$STAMP"
fi

TEMPLATE="$VENV/template/template.sqlite"
if [ ! -f "$TEMPLATE" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  printf '[database]\nuri = sqlite://\npath = %s\n' "$work" > "$work/trytond.conf"
  touch "$work/template.sqlite"
  # The admin password of the template; tests and the demo change nothing else with it.
  echo "admin" > "$work/pass"
  export TRYTONPASSFILE="$work/pass"
  "$VENV/bin/trytond-admin" -c "$work/trytond.conf" -d template --all \
    --email admin@example.com >"$work/init.log" 2>&1 || { tail -20 "$work/init.log"; exit 1; }
  "$VENV/bin/trytond-admin" -c "$work/trytond.conf" -d template \
    -u production sale purchase --activate-dependencies >>"$work/init.log" 2>&1 \
    || { tail -20 "$work/init.log"; exit 1; }
  mkdir -p "$(dirname "$TEMPLATE")"
  cp "$work/template.sqlite" "$TEMPLATE.tmp" && mv "$TEMPLATE.tmp" "$TEMPLATE"
fi
echo "tryton: $VENV/bin/trytond, template database $TEMPLATE"
