"""A stand-in for the listing entity that only records the order lines signalled to it: the
Vinted webhook route's tests see what the gateway delivers, whatever the entity does with it."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.sales import ORDER_SIGNAL, OrderLine


@workflow.defn(name="OrderRecorder")
class OrderRecorder:
    def __init__(self) -> None:
        self.lines: list[OrderLine] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=ORDER_SIGNAL)
    def order(self, line: OrderLine) -> None:
        self.lines.append(line)

    @workflow.query
    def received(self) -> list[OrderLine]:
        return self.lines
