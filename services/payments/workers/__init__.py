"""Background work of the payments service beside its RPCs."""
