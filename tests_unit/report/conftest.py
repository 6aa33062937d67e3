"""Fixtures of the report tests."""

from __future__ import annotations

from collections.abc import Iterator

import allure_commons
import pytest
from report_cases import AllureSpy


@pytest.fixture
def allure_spy() -> Iterator[AllureSpy]:
    """Record every allure call made during the test (alongside allure-pytest, if it is active)."""
    spy = AllureSpy()
    allure_commons.plugin_manager.register(spy)
    try:
        yield spy
    finally:
        allure_commons.plugin_manager.unregister(spy)
