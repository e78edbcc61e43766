"""Students: fine-tuning from a teacher's weights and knowledge distillation (Hinton et al. 2015)
through Keras's own `keras.distillation.Distiller`."""

from __future__ import annotations

import keras

from fmnist.core.variants import VariantConfig

# The project's models end in a softmax, and Keras's LogitsDistillation expects logits. Log
# probabilities are the logits up to a per-image constant, which a softmax ignores; the floor keeps
# log(0) (a float32 underflow) finite.
_FLOOR = 1e-7


class ProbabilityDistillation(keras.distillation.LogitsDistillation):
    """KL divergence between temperature-softened teacher and student predictions, for models
    whose outputs are probabilities. Pass `loss=keras.losses.KLDivergence()`: Keras 3.15's default,
    the string "kl_divergence", resolves to a function that skips the softmax, so the loss is the
    KL of raw logits, clipped to 0 (tests/unit/train/test_distill.py checks the loss is not)."""

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        def logits(probabilities):
            return keras.ops.log(keras.ops.maximum(keras.ops.cast(probabilities, "float32"), _FLOOR))

        return super().compute_loss(logits(teacher_outputs), logits(student_outputs), **kwargs)


def init_from_teacher(student: keras.Model, teacher: keras.Model) -> None:
    """Start the student from the teacher's trained weights (config checked that they match)."""
    student.set_weights(teacher.get_weights())


def distiller(v: VariantConfig, student: keras.Model, teacher: keras.Model) -> keras.Model:
    """The model `fit` trains: the student, with `distill` of its loss from the frozen teacher's
    softened predictions and the rest from the labels. Its outputs are the student's."""
    teacher.trainable = False
    return keras.distillation.Distiller(
        teacher=teacher,
        student=student,
        distillation_losses=ProbabilityDistillation(temperature=v.temperature, loss=keras.losses.KLDivergence()),
        student_loss_weight=1.0 - v.distill,
        name=f"{v.name}_distiller",
    )
