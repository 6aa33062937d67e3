"""`pytest -m config`: the lab's cluster design against every named rule, one test per rule.

Same rules as `halab check-config` (halab.checks.RULES), so the report shows each rule as its own
test: passed (no error; warnings attached), failed (its error findings), or skipped (needs --schema).
Give paths outside the repo as ``--schema=PATH`` (one word): pytest reads a separate absolute path as
a test path, picks /work as rootdir and never loads the conftest that defines the option.
"""

from __future__ import annotations

import allure
import pytest

from halab.checks import RULES, Context, Rule, Severity

pytestmark = pytest.mark.config


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule(rule: Rule, config_context: Context) -> None:
    allure.dynamic.feature(f"config: {rule.group}")
    allure.dynamic.title(f"{rule.id}: {rule.summary}")
    if not rule.applies(config_context):
        pytest.skip(f"{rule.id} needs a RelaxNG schema: give --schema=PATH")
    findings = rule.run(config_context)
    if findings:
        text = "\n".join(map(str, findings))
        allure.attach(text, name="findings", attachment_type=allure.attachment_type.TEXT)
    for finding in findings:
        if finding.severity is Severity.WARNING:
            print(finding)
    errors = [str(f) for f in findings if f.severity is Severity.ERROR]
    assert not errors, f"{config_context.conf.path}:\n" + "\n".join(errors)
