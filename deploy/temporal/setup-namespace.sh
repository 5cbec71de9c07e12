#!/bin/sh
# The namespace and the orders' search attributes (run by the admin-tools image once the
# server answers); each step is skipped when already done.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe -n "$ns" --address "$TEMPORAL_ADDRESS" \
  || temporal operator namespace create -n "$ns" --retention 30d --address "$TEMPORAL_ADDRESS"
for name in OrderStatus Channel ExternalOrderId ExceptionCode SettlementState; do
  temporal operator search-attribute create --namespace "$ns" --name "$name" --type Keyword \
    --address "$TEMPORAL_ADDRESS" || echo "$name already registered"
done
