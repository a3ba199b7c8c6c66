"""④ Prices to returns: the return panel, futures roll masks, cross-market alignment."""
