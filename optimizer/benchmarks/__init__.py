"""Benchmark helpers (bench-only): literature instances, generated field days, peers.

Nothing here is imported by the product path. Peer engines (pyvroom, pyvrp) and the
instance reader (vrplib) are the ``bench`` extra and are imported lazily.
"""
