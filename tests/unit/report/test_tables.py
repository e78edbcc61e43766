import dataclasses

from fmnist.report.tables import OPTION_SECTIONS, options_table, readme_blocks
from tests.helpers import ROOT


def test_every_option_is_described():
    for prefix, section in OPTION_SECTIONS:
        for option in dataclasses.fields(section):
            assert option.metadata.get("doc"), f"{prefix}.{option.name} has no description"


def test_committed_options_table_matches_the_config():
    """docs/experiments.md's options table is generated from fmnist/core/config.py, never typed."""
    assert options_table() in (ROOT / "docs" / "experiments.md").read_text()


def test_options_table_names_each_key_and_its_default():
    table = options_table()
    assert "| `variants.<name>.precision` | `float32` |" in table
    assert "| `runtime.deterministic` | `true` |" in table  # YAML spelling of booleans
    assert "`variants.<name>.name`" not in table  # the variant's key is not a setting


def test_options_block_is_filled_and_stale_text_replaced():
    text = "intro\n<!-- options:start -->\nold table\n<!-- options:end -->\nend\n"
    filled = readme_blocks(text, {"variants": {}, "ensemble": {}})
    assert "old table" not in filled and options_table() in filled and filled.endswith("end\n")
