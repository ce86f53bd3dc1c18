#!/usr/bin/env bash
# Smoke test of a running session service (or of AgentOS itself): probes, then one agent session
# taken through create, get, list, runs, rename, PATCH, duplicate create, delete. Every status and
# the key fields of every body are asserted; the first mismatch prints what was expected and what
# came back, and the script exits 1. Whatever it created is deleted on exit, failure or not.
#
# The jq filters handed to expect_json are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: test-session-api.sh [-h] BASE_URL

Runs the /sessions smoke test against BASE_URL (e.g. http://127.0.0.1:8080).

Environment:
  OS_SECURITY_KEY  bearer token sent as "Authorization: Bearer <key>" (API_KEY is used when unset);
                   with a key, the script also checks that /sessions without it gets 401
  DB_ID            passed as the db_id query parameter of every /sessions request

Needs curl and jq. Exit status: 0 when every step passed, 1 on the first failed step, 2 on
wrong usage.
EOF
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "" | -*) usage >&2; exit 2 ;;
esac
if [[ $# -ne 1 ]]; then
  usage >&2
  exit 2
fi
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

BASE_URL=${1%/}
KEY=${OS_SECURITY_KEY:-${API_KEY:-}}
DB_ID=${DB_ID:-}
AUTH=()
if [[ -n $KEY ]]; then
  AUTH=(-H "Authorization: Bearer $KEY")
fi

TMP=$(mktemp -d)
CREATED=()        # session ids to delete on exit
STEP=""           # the step being checked, for the failure message
STATUS=""         # the last response's status code
BODY=""           # the last response's body
STEPS=0           # steps passed
REQUESTS=0        # requests sent, all routes
SESSION_REQUESTS=0  # of which to /sessions routes (the smoke run compares this with /metrics)

# uri VALUE: VALUE percent-encoded for a path segment or a query value.
uri() { jq -rn --arg v "$1" '$v|@uri'; }

# url PATH: BASE_URL + PATH, plus db_id for /sessions routes when DB_ID is set.
url() {
  local path=$1
  if [[ -n $DB_ID && $path == /sessions* ]]; then
    if [[ $path == *\?* ]]; then path+="&"; else path+="?"; fi
    path+="db_id=$(uri "$DB_ID")"
  fi
  printf '%s%s' "$BASE_URL" "$path"
}

# call METHOD PATH [JSON_BODY]: send the request (with the bearer token, if any); sets STATUS and
# BODY. A transport error (refused, timed out) leaves STATUS=000 and curl's message in BODY.
call() {
  local method=$1 path=$2 args=(-sS --max-time 30 -o "$TMP/body" -w '%{http_code}' -X "$1")
  if [[ ${#AUTH[@]} -gt 0 ]]; then
    args+=("${AUTH[@]}")
  fi
  if [[ $# -ge 3 ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$3")
  fi
  REQUESTS=$((REQUESTS + 1))
  if [[ $path == /sessions* ]]; then
    SESSION_REQUESTS=$((SESSION_REQUESTS + 1))
  fi
  : >"$TMP/body"
  if ! STATUS=$(curl "${args[@]}" "$(url "$path")" 2>"$TMP/err"); then
    STATUS=000
    BODY="$(cat "$TMP/err") ($method $path)"
    return 0
  fi
  BODY=$(cat "$TMP/body")
}

# call_no_auth METHOD PATH: as call, without the Authorization header.
call_no_auth() {
  local saved=("${AUTH[@]}")
  AUTH=()
  call "$@"
  AUTH=("${saved[@]}")
}

step() { STEP=$1; }

fail() {
  {
    printf 'FAIL %s\n' "$STEP"
    printf '  expected: %s\n' "$1"
    printf '  got:      status %s, body: %s\n' "$STATUS" "$(printf '%s' "$BODY" | head -c 2000)"
  } >&2
  exit 1
}

ok() {
  STEPS=$((STEPS + 1))
  printf 'ok   %s\n' "$STEP"
}

expect_status() {
  [[ $STATUS == "$1" ]] || fail "status $1"
}

# expect_json FILTER [jq options...]: the body is JSON and FILTER evaluates to true on it.
expect_json() {
  local filter=$1
  shift
  jq -e "$@" "$filter" <<<"$BODY" >/dev/null 2>&1 || fail "status $STATUS and a body where: $filter"
}

cleanup() {
  local rc=$? sid status
  trap - EXIT
  for sid in "${CREATED[@]}"; do
    status=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X DELETE "${AUTH[@]}" \
      "$(url "/sessions/$(uri "$sid")")" 2>/dev/null) || status=000
    printf 'cleanup: DELETE /sessions/%s -> %s\n' "$sid" "$status" >&2
  done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ids unique per run: the clock, the shell's pid and 30 random bits, so concurrent runs and data
# already in the database never collide.
RUN="$(date +%s)-$$-${RANDOM}${RANDOM}"
SID="smoke-session-$RUN"
USER_ID="smoke-user-$RUN"
AGENT="smoke-agent"
NAME="Smoke session $RUN"
NEW_NAME="Smoke session renamed ✓"
UNKNOWN="smoke-missing-$RUN"
SID_PATH="/sessions/$(uri "$SID")"
STATE='{"step": 1, "items": ["a", "b"], "note": "grüße"}'
META='{"source": "smoke", "run": 1}'
NEW_STATE='{"step": 2, "done": true}'
# A reserved key is dropped on write (contract §2.3 step 2); metadata is replaced, not merged.
NEW_META='{"source": "smoke-patch", "agno_dispatch_depth": 3}'
NEW_META_STORED='{"source": "smoke-patch"}'

echo "session API smoke test against $BASE_URL (session $SID${DB_ID:+, db_id $DB_ID})"

# --- probes -------------------------------------------------------------------------------------
step "GET /health (AgentOS liveness)"
call GET /health
expect_status 200
expect_json '.status == "ok" and (.instantiated_at | type == "string")'
ok

step "GET /healthz (liveness)"
call GET /healthz
expect_status 200
expect_json '. == {"status": "ok"}'
ok

step "GET /readyz (every database reachable)"
call GET /readyz
expect_status 200
expect_json '.status == "ok"'
ok

if [[ -n $KEY ]]; then
  step "GET /sessions without a token -> 401"
  call_no_auth GET /sessions
  expect_status 401
  expect_json '. == {"detail": "Authorization header required"}'
  ok
fi

# --- list and create ----------------------------------------------------------------------------
step "GET /sessions (list page)"
call GET /sessions
expect_status 200
expect_json '(.data | type == "array") and .meta.page == 1 and .meta.limit == 20
             and (.meta.total_count | type == "number") and (.meta.total_pages | type == "number")'
ok

step "POST /sessions?type=agent (create agent session with session_state and metadata)"
create_body=$(jq -cn --arg sid "$SID" --arg uid "$USER_ID" --arg agent "$AGENT" --arg name "$NAME" \
  --argjson state "$STATE" --argjson meta "$META" \
  '{session_id: $sid, session_name: $name, session_state: $state, metadata: $meta,
    user_id: $uid, agent_id: $agent}')
call POST "/sessions?type=agent" "$create_body"
# Registered for cleanup as soon as it may exist: on 201, or when the answer never arrived.
if [[ $STATUS == 201 || $STATUS == 000 ]]; then
  CREATED+=("$SID")
fi
expect_status 201
expect_json '.session_id == $sid and .agent_session_id == $sid and .session_name == $name
             and .session_state == $state and .metadata == $meta and .user_id == $uid
             and .agent_id == $agent and .chat_history == []
             and (.created_at | type == "string") and (.updated_at | type == "string")' \
  --arg sid "$SID" --arg uid "$USER_ID" --arg agent "$AGENT" --arg name "$NAME" \
  --argjson state "$STATE" --argjson meta "$META"
ok

step "GET /sessions/{id} (detail of the new session)"
call GET "$SID_PATH"
expect_status 200
expect_json '.session_id == $sid and .agent_session_id == $sid and .session_name == $name
             and .session_state == $state and .metadata == $meta and .user_id == $uid
             and .agent_id == $agent and .chat_history == []' \
  --arg sid "$SID" --arg uid "$USER_ID" --arg agent "$AGENT" --arg name "$NAME" \
  --argjson state "$STATE" --argjson meta "$META"
ok

step "GET /sessions?user_id=... (finds exactly the new session)"
call GET "/sessions?user_id=$(uri "$USER_ID")"
expect_status 200
expect_json '.meta.total_count == 1 and .meta.total_pages == 1 and (.data | length) == 1
             and .data[0].session_id == $sid and .data[0].session_name == $name
             and .data[0].session_type == "agent" and .data[0].user_id == $uid
             and .data[0].agent_id == $agent and .data[0].session_state == $state' \
  --arg sid "$SID" --arg uid "$USER_ID" --arg agent "$AGENT" --arg name "$NAME" --argjson state "$STATE"
ok

step "GET /sessions?user_id=...&type=team (the agent session is not a team session)"
call GET "/sessions?user_id=$(uri "$USER_ID")&type=team"
expect_status 200
expect_json '.data == [] and .meta.total_count == 0'
ok

# --- runs ---------------------------------------------------------------------------------------
step "GET /sessions/{id}/runs (a new session has none: bare empty array)"
call GET "$SID_PATH/runs"
expect_status 200
expect_json '. == []'
ok

step "GET /sessions/{unknown}/runs -> 404"
call GET "/sessions/$(uri "$UNKNOWN")/runs"
expect_status 404
expect_json '. == {detail: $d}' --arg d "Session with ID $UNKNOWN not found"
ok

# --- rename and PATCH ---------------------------------------------------------------------------
step "POST /sessions/{id}/rename"
call POST "$SID_PATH/rename" "$(jq -cn --arg n "$NEW_NAME" '{session_name: $n}')"
expect_status 200
expect_json '.session_id == $sid and .session_name == $name and .session_state == $state' \
  --arg sid "$SID" --arg name "$NEW_NAME" --argjson state "$STATE"
ok

step "GET /sessions/{id} (shows the new name)"
call GET "$SID_PATH"
expect_status 200
expect_json '.session_id == $sid and .session_name == $name' --arg sid "$SID" --arg name "$NEW_NAME"
ok

step "PATCH /sessions/{id} (session_state and metadata replaced, name kept)"
call PATCH "$SID_PATH" "$(jq -cn --argjson s "$NEW_STATE" --argjson m "$NEW_META" \
  '{session_state: $s, metadata: $m}')"
expect_status 200
expect_json '.session_id == $sid and .session_name == $name and .session_state == $state
             and .metadata == $meta and .user_id == $uid and .agent_id == $agent' \
  --arg sid "$SID" --arg name "$NEW_NAME" --arg uid "$USER_ID" --arg agent "$AGENT" \
  --argjson state "$NEW_STATE" --argjson meta "$NEW_META_STORED"
ok

step "GET /sessions/{id} (the PATCH was stored)"
call GET "$SID_PATH"
expect_status 200
expect_json '.session_name == $name and .session_state == $state and .metadata == $meta' \
  --arg name "$NEW_NAME" --argjson state "$NEW_STATE" --argjson meta "$NEW_META_STORED"
ok

# --- duplicate create, delete -------------------------------------------------------------------
step "POST /sessions with the same session_id -> 409 (never overwrites)"
call POST "/sessions?type=agent" "$(jq -cn --arg sid "$SID" '{session_id: $sid, session_name: "overwrite?"}')"
expect_status 409
expect_json '. == {detail: $d}' --arg d "Session with id '$SID' already exists. Use PATCH /sessions/$SID to update it."
ok

step "GET /sessions/{id} (unchanged by the refused create)"
call GET "$SID_PATH"
expect_status 200
expect_json '.session_name == $name and .session_state == $state' --arg name "$NEW_NAME" --argjson state "$NEW_STATE"
ok

step "DELETE /sessions/{id} -> 204"
call DELETE "$SID_PATH"
expect_status 204
[[ -z $BODY ]] || fail "an empty body"
CREATED=()
ok

step "GET /sessions/{id} after delete -> 404"
call GET "$SID_PATH"
expect_status 404
expect_json '. == {detail: $d}' --arg d "Session with id '$SID' not found"
ok

step "GET /sessions?user_id=... after delete (empty)"
call GET "/sessions?user_id=$(uri "$USER_ID")"
expect_status 200
expect_json '.data == [] and .meta.total_count == 0'
ok

echo "passed: $STEPS steps, $REQUESTS requests ($SESSION_REQUESTS to /sessions routes)"
