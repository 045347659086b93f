"""compute_value, operations and batch exports on the clients."""
