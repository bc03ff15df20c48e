"""Offline demo: the real handler against a simulated account on loopback (`make demo`)."""
