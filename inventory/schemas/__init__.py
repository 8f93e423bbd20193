"""msgspec request and response bodies of the inventory API, one module per resource:
`fields` (value types), `catalogue`, `stock` (the movement union), `purchasing`,
`catalogue_import`, `bins`."""
