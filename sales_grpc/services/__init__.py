"""Use cases: one module per area; they take repositories and raise domain errors."""
