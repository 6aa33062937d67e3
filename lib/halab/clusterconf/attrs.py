"""An immutable, ordered attribute map that never prints a secret.

Fence devices carry passwords. The model keeps them (the writer must put them back so a deployed
cluster.conf still fences), but every repr, str and JSON form shows ``***`` instead, so a secret
cannot leak through a log line, a finding, a pytest assertion message or an Allure attachment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

# Attribute names whose values are secrets (fence-agents 3.1.x option names, plus the pre-RHEL6
# spelling "password" still found in old examples).
SECRET_KEYS = frozenset({"passwd", "password", "snmp_priv_passwd", "community"})
REDACTED = "***"


def is_secret(key: str) -> bool:
    return key.lower() in SECRET_KEYS


class Attrs(Mapping[str, str]):
    """XML attributes in source order; hashable, read-only, redacted when shown."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, str] = {str(k): str(v) for k, v in pairs}

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Attrs):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def redacted(self) -> dict[str, str]:
        """A plain dict safe to print or serialise: secret values replaced by ``***``."""
        return {k: (REDACTED if is_secret(k) else v) for k, v in self._items.items()}

    def without(self, *keys: str) -> Attrs:
        return Attrs((k, v) for k, v in self._items.items() if k not in keys)

    def __repr__(self) -> str:
        return f"Attrs({self.redacted()!r})"

    __str__ = __repr__


EMPTY = Attrs()
