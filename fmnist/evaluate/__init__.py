"""From trained models to numbers: metrics and TTA, Grad-CAM, the validation-chosen
ensemble and the export. Imports `core` and `train`."""
