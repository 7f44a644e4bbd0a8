# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of mailops.workmail.workmail_organization_export: repeats the module's pass with wait=true.

With ``wait: false`` (the default) the module runs once. With ``wait: true`` all passes of the task share one lock
owner; the plugin runs a pass, prints one progress line, sleeps ``poll_interval`` seconds and runs the next, until
the campaign is done, a pass fails, or ``wait_timeout`` passes. Check mode makes one pass.
"""

import time
import uuid

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

MODULE_NAME = "mailops.workmail.workmail_organization_export"
DEFAULT_WAIT_TIMEOUT = 86400
DEFAULT_POLL_INTERVAL = 60
MIN_POLL_INTERVAL = 5


def format_duration(seconds):
    """``45s``, ``12m`` or ``3h05m``."""
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def progress_line(campaign, result, passes, elapsed):
    """``campaign <c>: 37/150 completed, 10 running, 103 pending, 0 failed (pass 4, 12m elapsed)``."""
    counts = result.get("summary") or {}
    failed = counts.get("failed", 0) + counts.get("failed_permanently", 0)
    return (
        f"campaign {campaign}: {counts.get('completed', 0)}/{counts.get('total', 0)} completed, "
        f"{counts.get('running', 0)} running, {counts.get('pending', 0)} pending, {failed} failed "
        f"(pass {passes}, {format_duration(elapsed)} elapsed)"
    )


def _int_arg(args, name, default):
    value = args.get(name, default)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        try:
            wait = boolean(args.get("wait", False), strict=True)
        except TypeError as e:
            result.update(failed=True, msg=f"wait: {to_text(e)}")
            return result

        if not wait or self._play_context.check_mode:
            module_result = self._execute_module(module_name=MODULE_NAME, module_args=args, task_vars=task_vars)
            result.update(module_result)
            result["passes"] = 1
            return result

        wait_timeout = _int_arg(args, "wait_timeout", DEFAULT_WAIT_TIMEOUT)
        poll_interval = _int_arg(args, "poll_interval", DEFAULT_POLL_INTERVAL)
        if wait_timeout is None or wait_timeout <= 0:
            result.update(
                failed=True, msg=f"wait_timeout: must be a positive number of seconds, got {args.get('wait_timeout')!r}"
            )
            return result
        if poll_interval is None or poll_interval < MIN_POLL_INTERVAL:
            result.update(
                failed=True,
                msg=f"poll_interval: must be at least {MIN_POLL_INTERVAL} seconds, got {args.get('poll_interval')!r}",
            )
            return result
        args["wait"] = False
        if not args.get("lock_owner"):
            args["lock_owner"] = f"ansible-{uuid.uuid4()}"
        campaign = args.get("campaign")

        started = time.monotonic()
        deadline = started + wait_timeout
        changed = False
        passes = 0
        while True:
            module_result = self._execute_module(module_name=MODULE_NAME, module_args=args, task_vars=task_vars)
            passes += 1
            changed = changed or bool(module_result.get("changed"))
            if module_result.get("failed"):
                break
            # On stderr, so that machine-readable stdout callbacks (ansible.posix.json) stay parseable.
            display.display(progress_line(campaign, module_result, passes, time.monotonic() - started), stderr=True)
            if module_result.get("done"):
                break
            if time.monotonic() + poll_interval > deadline:
                counts = module_result.get("summary") or {}
                module_result.update(
                    failed=True,
                    msg=(
                        f"campaign {campaign}: wait_timeout ({wait_timeout}s) passed after {passes} passes with "
                        f"{counts.get('completed', 0)} of {counts.get('total', 0)} mailboxes completed, "
                        f"{counts.get('running', 0)} running and {counts.get('pending', 0)} pending; the jobs keep "
                        "running and running the task again resumes the campaign"
                    ),
                )
                break
            time.sleep(poll_interval)

        result.update(module_result)
        result["changed"] = changed
        result["passes"] = passes
        return result
