"""Hand-written SQL: `rows` maps rows to model instances and prepares statements."""
