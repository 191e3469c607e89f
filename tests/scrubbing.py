"""Test helpers for the kernel-free scrubbers (``rf.widgets.*_scrubber``), shared by the
widget tests of every chapter: the frames of a player, and a spy in place of ``scrub``."""

import re

import matplotlib.pyplot as plt

import reluflow.widgets as rw


def frames_of(player) -> list[str]:
    """The base64 PNG frames embedded in a kernel-free player (rf.plotting.scrub)."""
    assert '<div class="animation">' in player.data and 'class="anim-slider"' in player.data
    return re.findall(r'"data:image/png;base64,([^"]+)"', player.data)


def spy_on_scrub(monkeypatch, module: str) -> list:
    """Replace ``scrub`` in the widget module ``module`` (e.g. ``"_flow"``) by a spy that
    records ``(values, keywords)`` of each call and draws only the first and last frame
    (fast); returns the list of calls."""
    calls = []

    def spy(draw, values, **kwargs):
        values = list(values)
        calls.append((values, kwargs))
        for v in (values[0], values[-1]):
            draw(plt.figure(), v)

    monkeypatch.setattr(getattr(rw, module), "scrub", spy)
    return calls
