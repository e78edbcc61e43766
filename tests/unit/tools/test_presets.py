import pytest
import yaml

from fmnist.core.config import load_params
from fmnist.core.errors import ConfigError
from fmnist.tools.cli import main
from fmnist.tools.presets import add_preset
from tests.helpers import ROOT


def test_repo_preset_is_valid_and_not_a_default_variant():
    params = load_params(ROOT / "params.yaml")
    assert "champion_long" in params.presets and "champion_long" not in params.variants
    assert params.variant("champion_long").augment.erasing > 0


def test_add_preset_appends_to_variants_and_keeps_comments(tmp_path):
    path = tmp_path / "params.yaml"
    original = (ROOT / "params.yaml").read_text()
    path.write_text(original)
    inserted = add_preset(path, "champion_long")
    text = path.read_text()
    assert inserted.startswith("  champion_long:") and inserted in text
    assert text.replace(inserted, "", 1) == original  # every other byte, comments included, kept
    # the comment that introduces `presets:` still follows the variants, not the new entry
    assert text.index("champion_long:") < text.index("\n# Presets: ")
    params = load_params(path)
    assert params.variants["champion_long"] == params.presets["champion_long"]
    assert list(params.variants)[-1] == "champion_long"
    assert yaml.safe_load(text)["ci"] == yaml.safe_load(original)["ci"]


def test_add_preset_errors(tmp_path, capsys):
    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text())
    with pytest.raises(ConfigError, match=r"presets\.nope: no such preset"):
        add_preset(path, "nope")
    main(["preset", "champion_long", "--params", str(path)])
    before = path.read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(["preset", "champion_long", "--params", str(path)])
    assert exit_info.value.code != 0
    assert "variants.champion_long: already a variant" in capsys.readouterr().err
    assert path.read_text() == before
