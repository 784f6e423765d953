#!/usr/bin/env bash
# Refresh Coop's Russian message catalog (Flask-Babel domain "messages").
#
#   bash scripts/translations.sh            extract + update + compile (the usual run)
#   bash scripts/translations.sh extract    coop/**.py, coop/templates/**.html -> coop/translations/messages.pot
#   bash scripts/translations.sh update     messages.pot -> ru/LC_MESSAGES/messages.po (created if missing)
#   bash scripts/translations.sh compile    messages.po -> messages.mo (committed: a fresh clone needs no compile)
#
# After `update`, translate every empty msgstr and review every "#, fuzzy" entry
# (then delete the fuzzy flag) in coop/translations/ru/LC_MESSAGES/messages.po, and
# run the script again. tests/test_translations.py fails while a message of the
# source has no Russian translation or the .mo is older than the .po.
# Flask-Admin's own strings come from its shipped catalog (domain "admin"), not from here;
# the few it lacks are in ru/LC_MESSAGES/admin.po, edited by hand and compiled here.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x .venv/bin/pybabel ]]; then
  PYBABEL=.venv/bin/pybabel
elif command -v pybabel >/dev/null 2>&1; then
  PYBABEL=pybabel
else
  echo "pybabel not found: create .venv and pip install -r requirements.txt" >&2
  exit 1
fi

DIR=coop/translations
POT=$DIR/messages.pot
LOCALE=ru
PO=$DIR/$LOCALE/LC_MESSAGES/messages.po
# Gettext keywords on top of Babel's defaults (_, gettext, ngettext, pgettext, …).
# tests/test_translations.py reads this line: keep it one line.
KEYWORDS=(-k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2)
PLURAL_FORMS='nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);'

extract() {
  local tmp
  tmp=$(mktemp)
  "$PYBABEL" --quiet extract --mapping-file=babel.cfg "${KEYWORDS[@]}" \
    --add-location=file --no-wrap --sort-by-file \
    --project=Coop --version=0.1.0 --copyright-holder="Coop" \
    --output-file="$tmp" .
  # Keep the old template when only its creation date would change: no churn in git.
  if [[ -f $POT ]] && diff -q <(grep -v '^"POT-Creation-Date:' "$POT") <(grep -v '^"POT-Creation-Date:' "$tmp") >/dev/null; then
    rm -f "$tmp"
  else
    mv "$tmp" "$POT"
    chmod 644 "$POT"
  fi
  echo "extracted $(grep -c '^msgid ' "$POT") msgids (incl. header) into $POT"
}

update() {
  [[ -f $POT ]] || extract
  "$PYBABEL" update --input-file="$POT" --output-dir="$DIR" --locale="$LOCALE" \
    --init-missing --no-wrap --ignore-obsolete --previous
  # Russian plural rule, one/few/many (Babel's own wording of it differs slightly).
  sed -i "s/^\"Plural-Forms: .*\"\$/\"Plural-Forms: ${PLURAL_FORMS//&/\\&}\\\\n\"/" "$PO"
  local fuzzy untranslated
  fuzzy=$(grep -c '^#,.*fuzzy' "$PO" || true)
  untranslated=$(awk '/^msgid /{id=$0} /^msgstr ""$/{getline nxt; if (id != "msgid \"\"" && nxt !~ /^"/) n++} END{print n+0}' "$PO")
  if ((fuzzy + untranslated > 0)); then
    echo "TODO: $PO has $untranslated untranslated and $fuzzy fuzzy entries: translate/review them, then rerun." >&2
  fi
}

compile() {
  "$PYBABEL" compile --directory="$DIR" --locale="$LOCALE" --domain=messages --statistics
  # Flask-Admin's messages its own Russian catalog lacks (domain "admin", written by hand).
  "$PYBABEL" compile --directory="$DIR" --locale="$LOCALE" --domain=admin --statistics
}

case "${1:-all}" in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  all) extract && update && compile ;;
  *)
    echo "usage: bash scripts/translations.sh [extract|update|compile|all]" >&2
    exit 2
    ;;
esac
