"""Fails loudly, naming the piece, when a moto upgrade moves an internal the stand-in uses."""

from __future__ import annotations

import pytest

from helpers.offline import moto_compat


@pytest.mark.parametrize("piece", list(moto_compat.CHECKS))
def test_moto_internal_is_where_the_stand_in_expects_it(piece):
    problem = moto_compat.CHECKS[piece]()
    assert problem is None, (
        f"moto {moto_compat.moto_version()}: {piece} moved — {problem}. "
        f"helpers.offline supports moto {moto_compat.SUPPORTED}; adapt helpers/offline "
        "before widening the pin."
    )


def test_install_refuses_an_unsupported_moto(monkeypatch):
    monkeypatch.setitem(moto_compat.CHECKS, "fake", lambda: "something moved")
    with pytest.raises(moto_compat.UnsupportedMoto, match="fake: something moved"):
        moto_compat.require_supported_moto()
