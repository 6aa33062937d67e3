"""Schema rule: what ccs_config_validate would say, with the same engine (libxml2 RelaxNG).

Validation is version-sensitive (cman@transport="udpu" is unknown to 3.0.12's schema), so the
schema is an input (``--schema``), never guessed. The schema file being unusable is a user error
(exit 2), not a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from lxml import etree

from halab.checks.base import At, Context, Issue, error, rule
from halab.clusterconf import ClusterConf, to_xml
from halab.errors import ConfigError
from halab.inputs import read_input


@lru_cache(maxsize=8)
def load_schema(path: Path) -> etree.RelaxNG:
    """Compile a RelaxNG schema once per run; ConfigError if it is missing or not RelaxNG."""
    if not path.is_file():
        raise ConfigError("no such schema file", str(path))
    data = read_input(path, lambda what: ConfigError(what, str(path)), 8 * 2**20)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.RelaxNG(etree.fromstring(data, parser, base_url=str(path)).getroottree())
    except OSError:
        raise ConfigError("no such schema file", str(path)) from None
    except etree.XMLSyntaxError as err:
        raise ConfigError(f"schema is not XML: {err.msg}", f"{path}:{err.lineno}") from None
    except etree.RelaxNGParseError as err:
        raise ConfigError(f"not a RelaxNG schema: {err}", str(path)) from None


def _document(conf: ClusterConf) -> etree._ElementTree:
    """The tree as read (true line numbers), or the written form of a model built in code."""
    if conf.source is not None:
        return conf.source.getroottree()
    return etree.fromstring(to_xml(conf).encode("utf-8")).getroottree()


def _locator(path: str | None) -> str:
    """'/cluster/clusternodes/clusternode[2]' -> 'clusternode[2]'."""
    return (path or "/cluster").rstrip("/").rsplit("/", 1)[-1] or "cluster"


@rule("schema.relaxng", "the config validates against the given RelaxNG schema (ccs_config_validate)",
      needs_schema=True)
def relaxng(ctx: Context) -> Iterator[Issue]:
    assert ctx.schema is not None
    schema = load_schema(Path(ctx.schema).resolve())
    if schema.validate(_document(ctx.conf)):
        return
    name = Path(ctx.schema).parent.name or Path(ctx.schema).name
    for entry in schema.error_log:
        yield error(At(_locator(entry.path), entry.line or None), f"{entry.message} (schema {name})")


RULES = (relaxng,)
