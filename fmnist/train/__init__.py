"""Training: augmentation, the model registry, schedules, precision choice, the fit loop and
the DVCLive curves it writes. Imports only `core`."""
