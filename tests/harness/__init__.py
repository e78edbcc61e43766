"""Run GitHub Actions workflows here as a hosted runner would (see runner.py), and the servers
the tests start (an S3-compatible DVC remote). Imported as `tests.harness`."""

from tests.harness.github import concurrency_outcome, dispatch_inputs, guard_origin
from tests.harness.runner import JobResult, Runner, StepResult, dump

__all__ = ["JobResult", "Runner", "StepResult", "concurrency_outcome", "dispatch_inputs", "dump", "guard_origin"]
