#!/bin/sh
# Registers the namespace the services use and its search attributes, once the server answers.
# Idempotent.
set -eu

NAMESPACE="${DEFAULT_NAMESPACE:-default}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
# Workflow histories (and the signed payment evidence in them) are kept this long after a job ends.
RETENTION="${NAMESPACE_RETENTION:-720h}"

attempt=0
until temporal operator cluster health --address "${ADDRESS}"; do
  attempt=$((attempt + 1))
  if [ "${attempt}" -ge 30 ]; then
    echo "Temporal at ${ADDRESS} did not become healthy" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --namespace "${NAMESPACE}" --address "${ADDRESS}" >/dev/null 2>&1; then
  echo "namespace ${NAMESPACE} already exists"
else
  temporal operator namespace create --namespace "${NAMESPACE}" --retention "${RETENTION}" \
    --address "${ADDRESS}"
  echo "namespace ${NAMESPACE} created"
fi

# Custom search attributes (SEARCH_ATTRIBUTES: NAME=Type pairs), each created once: the API sets
# them when it starts a job and the workflows keep them current (README "Finding jobs").
existing="$(temporal operator search-attribute list --namespace "${NAMESPACE}" --address "${ADDRESS}")"
for pair in ${SEARCH_ATTRIBUTES:-}; do
  name="${pair%%=*}"
  type="${pair#*=}"
  if printf '%s\n' "${existing}" | grep -qw "${name}"; then
    echo "search attribute ${name} already exists"
  else
    temporal operator search-attribute create --namespace "${NAMESPACE}" --address "${ADDRESS}" \
      --name "${name}" --type "${type}"
    echo "search attribute ${name} (${type}) created"
  fi
done
