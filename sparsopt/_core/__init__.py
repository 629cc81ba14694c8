"""The protocol every family shares: the loop, its state, the result, capability checks."""
