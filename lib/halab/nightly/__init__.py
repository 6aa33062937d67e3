"""Nightly at scale: shards across runners, one lab per xdist worker, trends across nights."""
