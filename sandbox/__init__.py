"""Sandbox partner systems: NetSuite-, AvaTax-, ShipStation- and Shopify-shaped APIs over real HTTP,
with fault injection. It stands in for partners that have no endpoint reachable from here."""
