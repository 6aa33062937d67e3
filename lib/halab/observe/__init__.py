"""Observers of a live test: status polls, libvirt lifecycle events, client probes, node logs."""
