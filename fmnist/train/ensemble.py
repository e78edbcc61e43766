"""Ensembles as teachers: trained variants averaged into one Keras model, which a student
distils from like from any teacher (the `ensemble@<name>` stage saves it)."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from fmnist.core.errors import ModelFileError


def average_model(members: Sequence[keras.Model], name: str) -> keras.Model:
    """One model whose output is the mean of the members' predicted probabilities. It saves,
    loads and predicts like a single model, so the student's stage needs no ensemble code. The
    members are renamed in place (`member_<i>_<name>`): pass models loaded for this purpose."""
    shapes = {tuple(member.inputs[0].shape[1:]) for member in members}
    if len(shapes) != 1:
        raise ModelFileError(f"ensemble {name}: the members take different inputs {sorted(shapes)}")
    inputs = keras.Input(shapes.pop(), name="image")
    # Variants of one architecture share a model name, which one functional graph cannot hold twice.
    for index, member in enumerate(members):
        member.name = f"member_{index}_{member.name}"
    outputs = keras.layers.Average(name="probabilities")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name=name)
