"""The project's own error types and the one-line error reporting every entry point uses."""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or '' when nothing is close."""
    close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class FmnistError(Exception):
    """Base class: anything raised as FmnistError is a user-facing, one-line problem."""


class DataError(FmnistError):
    """Input data is missing or malformed (names the file, row and column)."""


class ConfigError(FmnistError):
    """params.yaml or an override is invalid (names the key)."""


class SourceError(FmnistError):
    """No usable data source, or a download / checksum failed."""


class ModelFileError(FmnistError):
    """A model file is missing, truncated or not a Keras archive."""


def exit_on_error(main: Callable[..., T]) -> Callable[..., T]:
    """Run `main`; turn project errors (and I/O errors) into one line on stderr and exit 2.

    Unexpected exceptions keep their traceback: they are bugs, not bad input.
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except FmnistError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        except OSError as error:
            # Disk full, read-only folder, permission denied: say which file, no traceback.
            where = f"{error.filename}: " if error.filename else ""
            print(f"error: {where}{error.strerror or error}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper
