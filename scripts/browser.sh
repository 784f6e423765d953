# Sourced by test.sh: can the browser tests (tests/e2e/) run here? They drive Debian's Chromium
# ($COOP_CHROMIUM, default /usr/bin/chromium) through Playwright, whose node needs libatomic1.
# When either is missing they are installed if this runs as root with apt; when that is not
# possible or fails (no network, no such package), COOP_SKIP_E2E=1 and one line says so:
# a missing browser never fails the run.
COOP_CHROMIUM="${COOP_CHROMIUM:-/usr/bin/chromium}"
browser_ready() {
  [ -x "$COOP_CHROMIUM" ] && { compgen -G "/usr/lib/*/libatomic.so.1" || compgen -G "/lib/*/libatomic.so.1"; } >/dev/null
}
if [ -z "${COOP_SKIP_E2E:-}" ] && ! browser_ready; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium libatomic1; } >&2 || true
  fi
  if ! browser_ready; then
    echo "Chromium не установлен (sudo apt-get install chromium libatomic1): браузерные тесты пропущены." >&2
    export COOP_SKIP_E2E=1
  fi
fi
