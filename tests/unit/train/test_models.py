import pytest

from fmnist.core.errors import ConfigError
from fmnist.train.models import REGISTRY, build_model

# Parameter counts are architectural facts; the MLP ones are spelled out by hand.
EXPECTED_PARAMS = {
    "mlp_a": 784 * 128 + 128 + 128 * 10 + 10,
    "mlp_b": 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10,
    "ann": 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10,
    # conv 3*3*1*32+32, conv 3*3*32*64+64, dense 7*7*64*128+128, dense 128*10+10
    "cnn_basic": 320 + 18496 + 401536 + 1290,
    "cnn_advanced": 468778,
    "cnn_enhanced": 1868618,
    "resnet": 309418,
    # stem 2*2*1*8+8; per block conv 3*3*in*w (no bias) + BN shift, mean, variance 3*w (no scale)
    "airbench": 40
    + (9 * 8 * 32 + 96)
    + (9 * 32 * 32 + 96)  # 32 wide
    + (9 * 32 * 128 + 384)
    + (9 * 128 * 128 + 384)  # 128 wide
    + (9 * 128 * 128 + 384) * 2  # 128 wide again
    + 128 * 10
    + 10,
}


def test_every_architecture_has_an_expected_count():
    assert set(REGISTRY) == set(EXPECTED_PARAMS)


@pytest.mark.parametrize("architecture", sorted(EXPECTED_PARAMS))
def test_builder_output_shape_and_params(architecture):
    model = build_model(architecture)
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert model.count_params() == EXPECTED_PARAMS[architecture]
    # No Lambda layers: models must load with safe_mode=True.
    assert all(type(layer).__name__ != "Lambda" for layer in model.layers)


def test_builder_options_change_the_model():
    small = build_model("resnet", {"stem_filters": 16, "widths": (16, 32, 64), "blocks": (1, 1, 1)})
    assert small.count_params() < EXPECTED_PARAMS["resnet"]
    wide = build_model("mlp_a", {"hidden_units": (256,), "dropout_rates": (0.1,)})
    assert wide.count_params() == 784 * 256 + 256 + 256 * 10 + 10


def test_unknown_architecture_and_option_fail_loudly():
    with pytest.raises(ConfigError, match=r"unknown architecture 'resnett' \(did you mean 'resnet'\?\)"):
        build_model("resnett")
    with pytest.raises(ConfigError, match=r"model.widht: not an argument of build_resnet \(did you mean 'widths'\?\)"):
        build_model("resnet", {"widht": (8,)})
    with pytest.raises(ConfigError, match=r"widths .* and blocks .* must have the same length"):
        build_model("resnet", {"widths": (8, 16), "blocks": (1,)})


def test_model_save_and_safe_load(tmp_path):
    from fmnist.core.errors import ModelFileError
    from fmnist.train.models import load_model

    model = build_model("mlp_a")
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path)
    assert loaded.count_params() == model.count_params()
    with pytest.raises(ModelFileError, match="model file not found"):
        load_model(tmp_path / "missing")
    (tmp_path / "junk.keras").write_bytes(b"hello")
    with pytest.raises(ModelFileError, match=r"not a Keras \.keras archive"):
        load_model(tmp_path / "junk.keras")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes((tmp_path / "model.keras").read_bytes()[:2000])
    with pytest.raises(ModelFileError):
        load_model(truncated)


def test_flop_counts_match_hand_computation():
    from fmnist.tools.flops import forward_flops, training_flops

    assert forward_flops(build_model("mlp_a")) == 2 * (784 * 128 + 128 * 10)
    # same-padded 3x3 convs: 28*28*9*1*32 and 14*14*9*32*64 MACs, then 3136*128 and 128*10
    expected = 2 * (28 * 28 * 9 * 32 + 14 * 14 * 9 * 32 * 64 + 3136 * 128 + 128 * 10)
    model = build_model("cnn_basic")
    assert forward_flops(model) == expected
    assert training_flops(model) == 3 * expected


def test_loading_needs_no_schedule_registration_in_a_fresh_process(tmp_path, fixture_train):
    """Saved models carry their optimizer's VariantSchedule in their compile settings. Loading
    with compile=False, as every stage does, must work in a process that never imported it."""
    import subprocess
    import sys

    import keras

    from fmnist.core.variants import VariantConfig
    from fmnist.train.loop import build_and_compile

    images, labels = fixture_train
    variant = VariantConfig(name="t", architecture="mlp_a", schedule="one_cycle", epochs=1)
    model = build_and_compile(variant, steps_per_epoch=5)
    model.fit(images[:100, ..., None] / 255.0, keras.utils.to_categorical(labels[:100], 10), epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    script = (
        "import sys; from fmnist.train.models import load_model; model = load_model(sys.argv[1]); "
        "assert 'fmnist.train.schedules' not in sys.modules and 'fmnist.train.loop' not in sys.modules; "
        "print(model.count_params())"
    )
    loaded = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert int(loaded.stdout.split()[-1]) == model.count_params()
