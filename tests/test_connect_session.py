"""Pacing of a live session: sim time follows the wall clock × speed, pauses and resumes."""

from __future__ import annotations

import time

import pytest

from pumpsim.connect.session import CommandError, Session, SessionStateError


def test_paced_session_follows_the_wall_clock_and_pauses():
    s = Session(speed=1000.0)
    time.sleep(0.2)
    t0 = time.monotonic()
    s.pace_step()
    wall = time.monotonic() - t0
    # target = 1000 x (>= 0.2 s): sim time reached it, or reports how far behind it is
    reached = s.now + s.lag_s
    assert reached >= 200.0
    assert reached <= 1000.0 * (0.2 + wall + 1.0)  # generous: a loaded machine
    with pytest.raises(SessionStateError):
        s.advance(s.now + 10)  # lock-step moves are refused while pacing runs
    s.set_pace(1000.0, paused=True)
    held = s.now
    time.sleep(0.05)
    s.pace_step()
    assert s.now == held and s.paused
    s.advance(held + 60.0)  # a paused session can be stepped by hand
    assert s.now == held + 60.0
    s.set_pace(1000.0, paused=False)
    time.sleep(0.05)
    s.pace_step()
    assert s.now > held + 60.0


def test_speed_is_bounded_and_lockstep_does_not_move_alone():
    s = Session(speed=None)
    with pytest.raises(CommandError, match="allowed 1 to 1000"):
        s.set_pace(5000.0)
    s.pace_step()
    assert s.now == 0.0 and s.status()["mode"] == "lockstep"
