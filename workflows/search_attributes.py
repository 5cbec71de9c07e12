"""Typed search attributes the order workflows set, so ops can filter runs in the Temporal UI."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CHANNEL = SearchAttributeKey.for_keyword("Channel")
EXTERNAL_ORDER_ID = SearchAttributeKey.for_keyword("ExternalOrderId")
EXCEPTION_CODE = SearchAttributeKey.for_keyword("ExceptionCode")
SETTLEMENT_STATE = SearchAttributeKey.for_keyword("SettlementState")  # canonical SettlementState

ALL = (ORDER_STATUS, CHANNEL, EXTERNAL_ORDER_ID, EXCEPTION_CODE, SETTLEMENT_STATE)
