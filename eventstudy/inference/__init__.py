"""⑥ Statistics on abnormal returns: the tests (reference and batched), kernels, regressions, hypotheses."""
