"""⑤ Normal-return models on arrays: windows, batched OLS/market/factor fits, layout of the pairs."""
