"""The returns ledger: which units of an order earlier returns already took back."""
