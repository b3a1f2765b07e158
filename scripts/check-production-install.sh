#!/usr/bin/env bash
# Production install check: a fresh clone of the current commit, built, then `npm ci --omit=dev`
# (no dev dependencies, no TypeScript), started in production mode; /readyz must answer 200 and
# SIGTERM must end it with exit code 0. Run from the repository root after `npm ci` (CI does);
# prints one line saying what failed and exits non-zero otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-production-XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "production install: $*" >&2
  [ -f "$tmp/server.log" ] && tail -n 20 "$tmp/server.log" >&2
  exit 1
}

app="$tmp/gatehouse"
git clone --quiet "$root" "$app" || fail "cannot clone $root"
# Build the clone's own sources with the workspace's tools, then take the tools away again.
ln -s "$root/node_modules" "$app/node_modules"
(cd "$app" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.build.json) || fail "the build failed"
rm "$app/node_modules"

(cd "$app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) || fail "npm ci --omit=dev failed"
[ ! -e "$app/node_modules/typescript" ] || fail "a dev dependency (typescript) was installed"

port=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
secret=$(node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))")
(
  cd "$app" || exit 1
  exec env -i PATH="$PATH" HOME="$tmp" GATEHOUSE_MODE=production GATEHOUSE_SECRET="$secret" \
    GATEHOUSE_DATA_DIR="$tmp/data" GATEHOUSE_PORT="$port" GATEHOUSE_ISSUER="http://localhost:$port" \
    node bin/gatehouse.js start
) >"$tmp/server.log" 2>&1 &
pid=$!

ready=
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || fail "the server exited before it was ready"
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
  if [ "$status" = 200 ]; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || fail "/readyz did not answer 200 within 30 s (last status: ${status:-none})"

kill -TERM "$pid"
code=
for _ in $(seq 1 60); do
  if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; code=$?; break; fi
  sleep 0.5
done
[ -n "$code" ] || fail "the server did not exit within 30 s of SIGTERM"
pid=
[ "$code" -eq 0 ] || fail "the server exited with code $code after SIGTERM"
echo "production install: npm ci --omit=dev, started in production mode, /readyz 200, SIGTERM exit 0"
