"""bundler/gcpause.py: the collector is off inside a paused section and back on after; in a
short-lived process the section's survivors are moved out of the collector's sight (gc.freeze)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import bundler.gcpause as gcpause


@pytest.fixture
def clean_gc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(gcpause, "_freeze", False)
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after(clean_gc: None) -> None:
    with gcpause.gc_paused():
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0  # a long-lived caller: nothing frozen
    gc.disable()
    with gcpause.gc_paused():
        pass
    assert not gc.isenabled()  # off before, off after
    del kept


def test_survivors_are_frozen_after_freeze_after_pauses(clean_gc: None) -> None:
    gcpause.freeze_after_pauses()
    with gcpause.gc_paused():
        kept = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(kept)  # the section's lists are out of the collector's sight
    assert not any(o is kept for o in gc.get_objects())
    del kept
