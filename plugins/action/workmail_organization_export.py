# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of mailops.workmail.workmail_organization_export: repeats the module's pass with wait=true.

With ``wait: false`` (the default) the module runs once. With ``wait: true`` all passes of the task share one lock
owner; the plugin runs a pass, prints one progress line, sleeps until the pass says the next is due (when its first
running job is expected to end; at most ``poll_interval`` seconds) and runs the next, until
the campaign is done, a pass fails, or ``wait_timeout`` passes. Check mode makes one pass.
"""

import time
import uuid

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.eta import summary_line
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.pace import next_pass_delay
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_POLL_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_WAIT_TIMEOUT
from ansible_collections.mailops.workmail.plugins.module_utils.common import MIN_POLL_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.errors import ParameterError
from ansible_collections.mailops.workmail.plugins.module_utils.validation import integer_value
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_integer

display = Display()

MODULE_NAME = "mailops.workmail.workmail_organization_export"


def format_duration(seconds):
    """``45s``, ``12m`` or ``3h05m``."""
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def progress_line(campaign, result, passes, elapsed):
    """``campaign <c>: 37/150 completed, 10 running, 103 pending, 0 failed; ETA <early> to <late> (pass 4, 12m
    elapsed)``, and how many of the mailboxes AWS's one export per 24 hours holds back (``, 3 held by the 24-hour
    rule, the first until <t>``); see :func:`progress_extras`."""
    counts = result.get("summary") or {}
    failed = counts.get("failed", 0) + counts.get("failed_permanently", 0)
    held = result.get("blocked_24h") or []
    line = (
        f"campaign {campaign}: {counts.get('completed', 0)}/{counts.get('total', 0)} completed, "
        f"{counts.get('running', 0)} running, {counts.get('pending', 0)} pending, {failed} failed"
    )
    if held:
        line += f", {len(held)} held by the 24-hour rule, the first until {min(item['eligible'] for item in held)}"
    line += progress_extras(result)
    return f"{line} (pass {passes}, {format_duration(elapsed)} elapsed)"


def progress_extras(result):
    """What a progress line adds of the estimate (``; ETA ... to ...``, ``AT RISK`` when it passes the deadline
    less its margin), of the report (``; report <S3 URI>`` when this pass wrote it) and of sealed parts found missing
    or altered (``; 1 SEALED PART MISSING OR ALTERED: ...``, the first problem)."""
    text = ""
    eta = summary_line(result.get("eta"))
    if eta:
        text += f"; {eta}"
    report = result.get("report") or {}
    if report.get("written") and report.get("html"):
        text += f"; report {report['html']}"
    problems = result.get("sealed_part_problems") or []
    if problems:
        text += f"; {len(problems)} SEALED PART(S) MISSING OR ALTERED: {problems[0]}"
    return text


def timeout_message(campaign, result, wait_timeout, passes):
    """Why a task that waited ``wait_timeout`` seconds stopped before the campaign was done."""
    counts = result.get("summary") or {}
    return (
        f"campaign {campaign}: wait_timeout ({wait_timeout}s) passed after {passes} passes with "
        f"{counts.get('completed', 0)} of {counts.get('total', 0)} mailboxes completed, "
        f"{counts.get('running', 0)} running and {counts.get('pending', 0)} pending; the jobs keep "
        "running and running the task again resumes the campaign"
    )


def may_be_last(remaining, poll_interval, last_duration):
    """Whether a pass starting ``remaining`` seconds before the wait's timeout may be its last: the next would start
    after this pass (as long as twice the last, to be safe) and a sleep of up to ``poll_interval``. Such a pass writes
    the campaign's report if anything in it changed, whatever ``report_interval`` says."""
    return remaining <= poll_interval + 2 * last_duration


def wait_settings(args):
    """``(wait_timeout, poll_interval)`` of the task's arguments (integers, or text of one, as templates give them);
    ParameterError naming the argument otherwise."""
    settings = []
    for name, default, minimum in (
        ("wait_timeout", DEFAULT_WAIT_TIMEOUT, 1),
        ("poll_interval", DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL),
    ):
        value = args.get(name)
        try:
            value = default if value is None else integer_value(value)
        except ValueError:
            pass  # validate_integer names the option and the rule
        settings.append(validate_integer(value, name, minimum))
    return tuple(settings)


class ActionModule(ActionBase):

    clock = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        try:
            wait = boolean(args.get("wait", False), strict=True)
            wait_timeout, poll_interval = wait_settings(args) if wait else (None, None)
        except TypeError as e:
            result.update(failed=True, msg=f"wait: {to_text(e)}")
            return result
        except ParameterError as e:
            result.update(failed=True, msg=e.message)
            return result
        if not wait or self._play_context.check_mode:
            result.update(self._execute_module(module_name=MODULE_NAME, module_args=args, task_vars=task_vars))
            result["passes"] = 1
            result["started_total"] = len(result.get("started") or [])
            return result
        args["wait"] = False
        if not args.get("lock_owner"):
            args["lock_owner"] = f"ansible-{uuid.uuid4()}"
        result.update(self._wait(args, task_vars, wait_timeout, poll_interval))
        return result

    def _wait(self, args, task_vars, wait_timeout, poll_interval):
        """Passes until done, failed or ``wait_timeout``; the last pass's result, with ``passes`` and
        ``started_total`` (the jobs every pass started; ``started`` lists the last pass's). Each pass says when the
        next is due (when its first running job is due a look, ...): the plugin sleeps until then, at least 5 seconds
        and at most ``poll_interval``."""
        campaign = args.get("campaign")
        started = self.clock()
        changed = False
        passes = 0
        started_total = 0
        last_duration = 0.0
        while True:
            begun = self.clock()
            last = may_be_last(started + wait_timeout - begun, poll_interval, last_duration)
            pass_args = dict(args, report_interval=0) if last else args
            module_result = self._execute_module(module_name=MODULE_NAME, module_args=pass_args, task_vars=task_vars)
            last_duration = self.clock() - begun
            passes += 1
            started_total += len(module_result.get("started") or [])
            changed = changed or bool(module_result.get("changed"))
            if module_result.get("failed"):
                break
            # On stderr, so that machine-readable stdout callbacks (ansible.posix.json) stay parseable.
            display.display(progress_line(campaign, module_result, passes, self.clock() - started), stderr=True)
            if module_result.get("done"):
                break
            delay = next_pass_delay(module_result.get("pass"), poll_interval, last_duration)
            if self.clock() + delay > started + wait_timeout:
                module_result.update(failed=True, msg=timeout_message(campaign, module_result, wait_timeout, passes))
                break
            self.sleep(delay)
        module_result.update(changed=changed, passes=passes, started_total=started_total)
        return module_result
