# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A pass keeps its lock while it works, and stops when nobody waits for it any more.

:class:`LockHeartbeat` refreshes the campaign lock a third of its TTL after the last refresh, so a short TTL is
enough: a run that is killed leaves a lock that expires within minutes. :class:`ParentWatch` notices that the
ansible-playbook (or ansible-runner) that started the module is gone, for example killed by an AWX timeout: a module
process is not killed with it, so the pass stops itself at its next heartbeat, saving what it recorded and
releasing its lock, instead of carrying on unseen.
"""

import os
import time

from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError

# The processes that start modules; the watch looks up the process tree for the first of them.
STARTERS = ("ansible-playbook", "ansible-runner", "ansible-console", "/ansible ")
MAX_ANCESTORS = 8


def no_heartbeat():
    """The heartbeat of a caller that needs none (no lock to keep, nobody to watch)."""


class RunAbandonedError(WorkMailError):
    """The process that started this pass ended: nobody waits for its result."""

    def __init__(self, pid):
        super().__init__(
            f"the process that started this pass ({pid}) has ended, so the pass stopped itself; what it recorded is "
            "saved and its lock released: run the campaign again",
            abandoned_by=pid,
        )


def _stat(pid):
    """``(parent pid, start time)`` of a process from /proc, or None when it does not exist (or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stream:
            fields = stream.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[19]


def _command(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _is_starter(pid):
    command = _command(pid)
    return any(name in command for name in STARTERS)


def starters(pid):
    """``([(pid, start time)], count)``: the ancestors of ``pid`` up to the outermost of the first run of processes
    that start modules, and how many of them that run holds (0 when none is found within :data:`MAX_ANCESTORS`: then
    only the parent is listed); ``([], 0)`` without /proc."""
    found = []
    count = 0
    current = _stat(pid)
    while current is not None and current[0] > 1 and len(found) < MAX_ANCESTORS:
        parent = current[0]
        current = _stat(parent)
        if current is None:
            break
        starter = _is_starter(parent)
        if count and not starter:
            break
        count += 1 if starter else 0
        found.append((parent, current[1]))
    return (found, count) if count else (found[:1], 0)


class ParentWatch:
    """Watches the processes :func:`starters` finds for this process; :meth:`check` raises RunAbandonedError when
    one of them has ended (or its pid now names another process).

    ansible-playbook runs every task in a worker it forks, which looks like itself; a lone one is a worker whose
    ansible-playbook has ended already (killed before the module started): that too is an abandoned run."""

    def __init__(self, pid=None):
        self.watched, count = starters(os.getpid() if pid is None else pid)
        self.lone_worker = self.watched[-1][0] if count == 1 and _is_playbook(self.watched[-1][0]) else None

    def check(self):
        if self.lone_worker is not None:
            raise RunAbandonedError(f"the ansible-playbook whose worker {self.lone_worker} runs this module")
        for pid, start in self.watched:
            current = _stat(pid)
            if current is None or current[1] != start:
                raise RunAbandonedError(pid)


def _is_playbook(pid):
    return "ansible-playbook" in _command(pid)


class LockHeartbeat:
    """A callable that checks ``watch`` (a :class:`ParentWatch`, or None) and refreshes a
    :class:`~manifest_store.CampaignLock` when ``interval`` seconds (of ``clock``, a monotonic clock by default) have
    passed since its last refresh, so it may be called as often as convenient."""

    def __init__(self, lock, interval, clock=time.monotonic, watch=None):
        self.lock = lock
        self.interval = interval
        self.clock = clock
        self.watch = watch
        self.last = clock()
        self.refreshes = 0

    def __call__(self):
        if self.watch is not None:
            self.watch.check()
        if self.clock() - self.last < self.interval:
            return
        self.lock.refresh()
        self.last = self.clock()
        self.refreshes += 1
