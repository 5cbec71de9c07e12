"""What polled imports are kept under in the inbox, (source, topic): shared by the polls that
store them and the ingest handlers that act on them."""

WALMART_PO = ("walmart", "released")  # a released purchase order
WALMART_RETURN = ("walmart", "return")  # a return order a customer opened (`GET /v3/returns`)
AMAZON_RETURN = ("amazon", "return")  # the returns report's rows of one order and RMA
