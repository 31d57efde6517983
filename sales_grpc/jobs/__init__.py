"""Background work every replica runs beside the server: mail delivery (more to come)."""
