"""The inventory availability service: positions, reservations and the ledger per SKU x node,
channel allocation, sourcing and reconciliation. Its store is the single source of ATP."""
