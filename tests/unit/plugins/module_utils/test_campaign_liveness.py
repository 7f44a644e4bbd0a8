# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A pass keeps its lock alive and stops when the process that started it is gone."""

import os
import signal
import subprocess
import sys

import pytest
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import LockHeartbeat
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import ParentWatch
from ansible_collections.mailops.workmail.plugins.module_utils.campaign import RunAbandonedError

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process tree from /proc")


class Lock:
    def __init__(self):
        self.refreshed = 0

    def refresh(self):
        self.refreshed += 1


def test_the_heartbeat_refreshes_at_most_once_per_interval():
    ticks = [100.0]
    lock = Lock()
    beat = LockHeartbeat(lock, 300, clock=lambda: ticks[0])
    beat()
    ticks[0] += 299
    beat()
    assert lock.refreshed == 0
    ticks[0] += 1
    beat()
    beat()
    assert lock.refreshed == 1 and beat.refreshes == 1
    ticks[0] += 300
    beat()
    assert lock.refreshed == 2


def test_a_pass_whose_starter_is_killed_stops_at_its_next_heartbeat():
    # starter runs a child (the "module"); the watch of the child sees the starter end.
    starter = subprocess.Popen(  # pylint: disable=consider-using-with
        [
            sys.executable,
            "-c",
            "import subprocess; p = subprocess.Popen(['sleep', '60']); print(p.pid, flush=True); p.wait()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(starter.stdout.readline())
    try:
        watch = ParentWatch(child)
        assert watch.watched and watch.watched[0][0] == starter.pid
        lock = Lock()
        beat = LockHeartbeat(lock, 0, watch=watch)
        beat()
        assert lock.refreshed == 1
        starter.kill()
        starter.wait()
        with pytest.raises(
            RunAbandonedError, match=f"the process that started this pass \\({starter.pid}\\) has ended"
        ):
            beat()
        assert lock.refreshed == 1
    finally:
        os.kill(child, signal.SIGKILL)
        starter.stdout.close()


def test_the_watch_of_this_process_finds_its_starter_and_passes():
    watch = ParentWatch()
    assert watch.watched and watch.watched[0][0] == os.getppid()
    watch.check()
