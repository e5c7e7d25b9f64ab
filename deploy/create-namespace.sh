#!/bin/sh
# Registers the namespace the services use, once the server answers. Idempotent.
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
