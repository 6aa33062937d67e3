"""Thin root conftest: plugin wiring and options only. Fixtures live in fixtures/, knowledge in lib/halab."""

pytest_plugins = ["fixtures.options", "fixtures.config", "fixtures.lab", "fixtures.failover", "fixtures.mutants",
                  "fixtures.shard"]
