"""The layout issue 17 set: a module has one job, which fits in 300 lines, and the package
root holds only the modules every part shares (16 at most), so a folder says each concern."""

from __future__ import annotations

from pathlib import Path

import thoughtcredits

PACKAGE = Path(thoughtcredits.__file__).parent


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert long == {}


def test_the_package_root_holds_at_most_16_modules() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 16
