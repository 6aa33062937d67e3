"""Stack adapters: one interface (base.StackAdapter), one adapter per stack, picked by name."""

from halab.stacks.base import ADAPTERS, Commands, StackAdapter, get_adapter

__all__ = ["ADAPTERS", "Commands", "StackAdapter", "get_adapter"]
