"""`pytest -m config` on a pacemaker design: the lab's CIB + corosync.conf against every pacemaker rule.

Same rules as `halab check-config cib.xml` (halab.checks.pacemaker.RULES), one test per rule.
"""

from __future__ import annotations

import allure
import pytest

from halab.checks.base import Severity
from halab.checks.pacemaker import RULES, PcmkRule
from halab.cib.lab import lab_design
from halab.errors import HalabError
from halab.spec import LabSpec

pytestmark = pytest.mark.config


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_pcmk_rule(rule: PcmkRule, config_spec: LabSpec) -> None:
    allure.dynamic.feature(f"config: {rule.group}")
    allure.dynamic.title(f"{rule.id}: {rule.summary}")
    if "pacemaker" not in config_spec.stacks:
        pytest.skip(f"lab {config_spec.name} has no pacemaker design")
    try:
        design = lab_design(config_spec).user  # the design as the user wrote it
    except HalabError as err:
        pytest.fail(str(err), pytrace=False)
    findings = rule.run(design)
    if findings:
        allure.attach("\n".join(map(str, findings)), name="findings", attachment_type=allure.attachment_type.TEXT)
    errors = [str(f) for f in findings if f.severity is Severity.ERROR]
    assert not errors, f"{design.cib_path}:\n" + "\n".join(errors)
