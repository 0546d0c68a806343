"""Keep the API key out of everything the command line prints about its own arguments.

The key can be on the command line as ``--api-key KEY`` or ``--api-key=KEY``; a user may also
misspell the option (``--api KEY``, ``--apikey=KEY``, ``--api_key KEY``), which the parser then
refuses, quoting what follows. :func:`secret_values` finds every value given after a spelling
that looks like a key option, and :func:`scrub` replaces them in any text; the resume hint
(:func:`resume_command`) names the environment variable instead.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence

from .._config import ENV_API_KEY

__all__ = ["REDACTED", "resume_command", "scrub", "secret_values"]

REDACTED = "[redacted]"
_VARIABLE = f"${ENV_API_KEY}"
_SECRET_WORDS = ("key", "token", "secret", "password", "auth")


def _is_key_option(word: str) -> bool:
    """``--api-key`` or anything a person might have meant by it (``--api``, ``--apikey``)."""
    if not word.startswith("-"):
        return False
    name = word.split("=", 1)[0].lstrip("-").lower().replace("_", "-")
    if not name:
        return False
    return "api-key".startswith(name) or any(part in name for part in _SECRET_WORDS)


def secret_values(argv: Sequence[str]) -> list[str]:
    """The values on ``argv`` given to a key-like option, and ``$THOUGHTCREDITS_API_KEY``."""
    found = []
    for index, word in enumerate(argv):
        if not _is_key_option(word):
            continue
        if "=" in word:
            found.append(word.split("=", 1)[1])
        elif index + 1 < len(argv):
            found.append(argv[index + 1])
    from_env = os.environ.get(ENV_API_KEY)
    if from_env:
        found.append(from_env)
    # Longest first: a key that contains another is replaced whole. A value of one to three
    # characters is no real key, and replacing it would garble every message.
    return sorted({value for value in found if len(value.strip()) > 3}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``[redacted]``."""
    for value in secrets:
        text = text.replace(value, REDACTED)
    return text


def _words(argv: Sequence[str]) -> list[str]:
    words = list(argv)
    for index, word in enumerate(words):
        if not _is_key_option(word):
            continue
        if "=" in word:
            words[index] = word.split("=", 1)[0] + "=" + _VARIABLE
        elif index + 1 < len(words):
            words[index + 1] = _VARIABLE
    return words


def resume_command(argv: Sequence[str]) -> str:
    """The command line that continues an export: the same one plus ``--resume``.

    A key given on the command line, however spelled, is replaced by
    ``"$THOUGHTCREDITS_API_KEY"``: the key is never printed.
    """
    words = _words(argv)
    if "--resume" not in words:
        words.append("--resume")
    secrets = secret_values(argv)
    quoted = []
    for word in words:
        if word == _VARIABLE:
            quoted.append(f'"{_VARIABLE}"')
        elif word.endswith("=" + _VARIABLE):
            quoted.append(shlex.quote(word.removesuffix(_VARIABLE)) + f'"{_VARIABLE}"')
        else:
            quoted.append(shlex.quote(scrub(word, secrets)))
    return "thoughtcredits " + " ".join(quoted)
