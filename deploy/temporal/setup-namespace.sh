#!/bin/sh
# One-shot Temporal set-up (service `temporal-setup`, image temporalio/admin-tools, which ships
# the `temporal` CLI). Idempotent; runs on every `docker compose up`, after the server is healthy
# and before the API and workers start:
#   1. the namespace TEMPORAL_NAMESPACE exists, with retention TEMPORAL_NAMESPACE_RETENTION
#      (created if missing; an existing namespace is brought to that retention);
#   2. the Keyword search attributes of CONTRACT §9 are registered on it;
#   3. a visibility query on them succeeds, so the first workflow the API starts can use them.
# The same registration is available from the app image: `node dist/src/temporal/setup-main.js`.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-7d}"
MAX_ATTEMPTS="${SETUP_MAX_ATTEMPTS:-60}"
SLEEP_SECONDS="${SETUP_SLEEP_SECONDS:-3}"
SEARCH_ATTRIBUTES="LettuceAccountId LettuceRepo LettuceRepoStatus LettuceWorkspace"

# retry CMD...: run CMD until it succeeds, MAX_ATTEMPTS times at most. The port opens before the
# server's membership ring is ready, so the first calls may fail even after the healthcheck.
retry() {
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
      echo "Giving up after $MAX_ATTEMPTS attempts: $*" >&2
      return 1
    fi
    attempt=$((attempt + 1))
    sleep "$SLEEP_SECONDS"
  done
}

cluster_healthy() {
  temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1
}

ensure_namespace() {
  if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    temporal operator namespace update --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null &&
      echo "Namespace '$NAMESPACE' exists; retention set to $RETENTION"
    return
  fi
  if out=$(temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --retention "$RETENTION" --description "Lettuce repository connections and indexing" 2>&1); then
    echo "Namespace '$NAMESPACE' created with retention $RETENTION"
    return 0
  fi
  case "$out" in
    *"already exists"* | *AlreadyExists*) echo "Namespace '$NAMESPACE' already exists" ;;
    *) echo "$out" >&2; return 1 ;;
  esac
}

# ensure_search_attribute NAME: Keyword attribute on NAMESPACE. One that exists with the same type
# is fine; one that exists with another type is a misconfiguration that retries cannot fix.
ensure_search_attribute() {
  if out=$(temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --name "$1" --type Keyword 2>&1); then
    echo "Search attribute $1 (Keyword) registered"
    return 0
  fi
  case "$out" in
    *"different type"*) echo "$out" >&2; echo "Search attribute $1 must be Keyword; fix it by hand." >&2; exit 1 ;;
    *"already exists"*) echo "Search attribute $1 (Keyword) already registered" ;;
    *) echo "$out" >&2; return 1 ;;
  esac
}

# The namespace cache of the frontend refreshes on a timer: wait until a query on the new
# attributes parses, which proves they are usable, not just stored.
search_attributes_queryable() {
  temporal workflow list --address "$ADDRESS" --namespace "$NAMESPACE" --limit 1 \
    --query "LettuceAccountId = '_' AND LettuceRepo = '_' AND LettuceRepoStatus = '_' AND LettuceWorkspace = '_'" >/dev/null 2>&1
}

echo "Waiting for Temporal at $ADDRESS"
retry cluster_healthy
retry ensure_namespace
for name in $SEARCH_ATTRIBUTES; do
  retry ensure_search_attribute "$name"
done
retry search_attributes_queryable
echo "Temporal namespace '$NAMESPACE' is ready"
