"""The benchmark's no-op plays the completed order's recorded shape, not a guess at it."""

from bench.noop_saga import ACTIVITY, STATUS, WAIT, order_shape


def test_the_whole_shape_follows_the_recorded_completed_order() -> None:
    shape = order_shape(whole=True)
    statuses = [s.removeprefix(STATUS) for s in shape.steps if s.startswith(STATUS)]
    assert statuses == ["IN_PROGRESS", "AWAITING_SHIPMENT", "SHIPPED", "COMPLETED"]
    assert shape.steps.count(WAIT) == 1
    # The warehouse is asked before the wait, the shipment confirmed after it.
    assert ACTIVITY in shape.steps[: shape.steps.index(WAIT)]
    assert ACTIVITY in shape.steps[shape.steps.index(WAIT) :]
    assert shape.start_attributes["OrderStatus"] == "RECEIVED"
    assert shape.activities == order_shape(whole=False).activities > 0


def test_the_activities_shape_has_nothing_else() -> None:
    shape = order_shape(whole=False)
    assert set(shape.steps) == {ACTIVITY}
    assert shape.start_attributes == {}
