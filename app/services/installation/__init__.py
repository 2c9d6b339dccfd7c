"""Making an installation ready: the schema, default labels, the demo."""
