"""Readers of host-side outputs (the lab's iSCSI target), shared by both stacks."""

from halab.stacks.host.tgt import read_tgt_show

__all__ = ["read_tgt_show"]
