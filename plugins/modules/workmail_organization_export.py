#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: workmail_organization_export
version_added: 0.1.0
short_description: Export every Amazon WorkMail mailbox of an organization to S3, once, with proof
description:
  - Runs an export campaign over an Amazon WorkMail organization. Every selected user and resource mailbox is
    exported once to S3 with C(StartMailboxExportJob), encrypted with a customer managed KMS key, keeping at most
    O(max_concurrent_jobs) jobs running and starting the largest mailboxes first.
  - The campaign's state is a manifest in the export bucket,
    C(<s3_prefix>/mailops-campaigns/<campaign>/manifest.json), replaced with conditional writes during each pass
    (the attempts a pass is about to start, before it starts them; what else it recorded, with its checks or at
    its end).
    It records every mailbox, every attempt (its client token and job id), and what the verification (O(verify))
    found of each exported object. Running the task again carries on from the manifest and never starts a second job for an
    attempt.
  - A manifest of more than 64 KiB (about a hundred mailboxes still to do) is not rewritten at every step.
    The steps write their changes to a journal next to it, C(manifest.journal.json), and the manifest is rewritten
    whole, with the journal folded in, once the journal exceeds 32 KiB. So a pass writes to S3 what it changed, not
    the whole manifest. The module reads both.
  - Once 100 mailboxes are finished (COMPLETED, their export verified at the O(verify) level), they are sealed. They
    are written once to a part of their own next to the manifest, C(manifest.sealed-<number>-<sha256>.json), with
    the same encryption. The manifest then keeps only their ids and totals (its C(sealed) list, with each part's
    SHA-256), so a pass reads and scans only the mailboxes still to do, whatever the campaign's size. A part is never
    rewritten. A later run with a deeper O(verify) puts the mailboxes of the parts verified less deeply back into the
    manifest and checks them again. C(pass.sealed) and C(pass.unsealed) in the result count them.
  - Every reader of the whole campaign reads the parts too, each checked against the SHA-256 the manifest records.
    That is M(mailops.workmail.workmail_organization_export_info) (which returns the manifest whole), the report,
    and O(local_manifest), which keeps the whole manifest, journal and parts included, in one local file rewritten
    at every save. A part that is missing or altered is named, with how many mailboxes it holds, wherever it is
    read.
  - The module makes B(one reconcile pass) each time it runs. It lists the organization's mailboxes (adding new
    ones to the manifest), learns what became of the running jobs, records the jobs that ended, verifies the
    objects of completed exports, retries failed ones (after AWS's 24 hours) up to O(max_attempts) attempts, and
    starts jobs for free slots. With O(wait=true) the action plugin of the same name repeats passes until the
    campaign is done or O(wait_timeout) passes.
  - Besides the directory's daily reading, a pass costs the same number of WorkMail calls at any size of
    organization. It describes only the running
    jobs (at most 10) that are due a look, when their EstimatedProgress or the campaign's pace says they may have
    ended. It reads the whole job list (C(ListMailboxExportJobs), a page per 100 jobs of the last 7 days) only
    on the first pass, after AWS refused a start or forgot a job, after the manifest was recovered, once a day for
    jobs the campaign did not start, and when it costs fewer calls than the describes due.
  - With two jobs due a look or more, a pass first reads the first page of the job list (one call shows up to 100
    jobs) and describes only the jobs due that it does not show. AWS documents no order of the list. Listed newest
    first, the page shows every running job. In another order it may show none; then the page is not read again
    for a day.
  - A lock object next to the manifest (C(lock.json)) keeps two runs of a campaign apart.
  - Next to the manifest, passes write the campaign's report, C(report.html) and C(report.csv), with what needs
    attention, the counts, the estimated end, the progress over time and every mailbox with its archive and its
    verification (see O(report_interval) and RV(report)).
  - Use M(mailops.workmail.workmail_mailbox_export) to export one mailbox.
author:
  - mailops.workmail maintainers (@mailops)
options:
  campaign:
    description:
      - The name of the campaign, 1 to 64 characters of C(A-Z a-z 0-9 . _ -).
      - It names the manifest and goes into the client token of every job, so one organization can be exported
        several times (under several campaign names); running the same campaign again never exports a mailbox
        twice.
    type: str
    required: true
  role_arn:
    description:
      - ARN of the IAM role the WorkMail export service assumes to write to the bucket and use the key,
        C(arn:aws:iam::<account>:role/<path/><name>). See M(mailops.workmail.workmail_mailbox_export).
      - A campaign keeps the role it was started with; another value fails the task.
    type: str
    required: true
  kms_key_arn:
    description:
      - ARN of the symmetric customer managed KMS key that encrypts the exports and the manifest,
        C(arn:aws:kms:<region>:<account>:key/<key id>), in the organization's region. An alias is refused.
      - A campaign keeps the key it was started with; another value fails the task.
    type: str
    required: true
  s3_bucket:
    description:
      - Name of the S3 bucket the exports and the manifest are written to, in the organization's region.
    type: str
    required: true
  s3_prefix:
    description:
      - The S3 key prefix of the exports, 1 to 1023 characters among ASCII letters, digits and the characters
        ! _ . * ' ( ) / and -, not starting with /. The manifest is stored under it, in
        C(mailops-campaigns/<campaign>/).
    type: str
    required: true
  description:
    description:
      - The description of the jobs the campaign starts, C(mailops.workmail campaign <campaign>) by default.
      - The marker C([mailops:client_token=<token>]) is appended; the description may have at most 943
        characters.
    type: str
  include_disabled:
    description:
      - Export the mailboxes of DISABLED users and resources too. DELETED ones have no mailbox and are never
        exported.
    type: bool
    default: false
  skip_system_users:
    description:
      - Leave out users whose role is C(SYSTEM_USER).
    type: bool
    default: false
  include:
    description:
      - Shell-style patterns (case-insensitive) matched against each mailbox's id, email address and name; only
        mailboxes matching one of them are exported.
    type: list
    elements: str
  exclude:
    description:
      - Shell-style patterns (case-insensitive) matched against each mailbox's id, email address and name;
        mailboxes matching one of them are not exported.
    type: list
    elements: str
  mailboxes:
    description:
      - Export exactly these mailboxes, given by id, email address or name (case-insensitive). An entry that
        matches no mailbox that can be exported fails the task. Cannot be combined with O(include) or O(exclude).
    type: list
    elements: str
  max_concurrent_jobs:
    description:
      - How many export jobs may run at once, 1 to 10 (AWS allows 10 per organization). Running jobs started
        outside the campaign take slots too.
    type: int
    default: 10
  max_attempts:
    description:
      - How many jobs a mailbox gets before it is given up as FAILED_PERMANENTLY. AWS allows one export per
        mailbox every 24 hours, so a retry starts 24 hours after the failed attempt started.
    type: int
    default: 3
  verify:
    description:
      - How the object of every completed export is checked; the outcome is recorded in the manifest (the
        mailbox's C(object) record, with the C(level) of the check) and counted in RV(summary.verified).
      - V(basic) checks the object with C(HeadObject). It passes when the object exists, is not empty and is
        encrypted with SSE-KMS under O(kms_key_arn).
      - V(deep) makes the basic check and, when it passes, downloads the whole archive once (streamed, in 8 MiB
        chunks, never held in memory or written to disk) to compute its SHA-384, reads the archive's central
        directory with a few ranged C(GetObject) requests to count its file entries (directories are not
        counted; read in 8 MiB blocks, so memory stays bounded for any number of messages), and reads the job's
        export log. It passes when the log's C(sha384Hash) is the archive's SHA-384 and its C(totalMessages) is
        the number of file entries or the number of messages (C(.eml) entries; AWS does not say whether calendar
        items count), whether the log writes it as a number or as text. The data downloaded is about the size of
        the exports.
      - Where the export log is stored is not documented by AWS. It is looked for next to the archive, first as
        C(<name>.log.json), C(<name>.json), C(<name>.zip.log), C(<name>.zip.log.json) and C(<name>.log) for an
        archive C(<name>.zip), then with one C(ListObjectsV2) of the archive's folder (its key up to the last
        C(/)), among the objects that are not C(.zip) and whose name contains the job id. Its field names are
        matched case-insensitively.
      - A check has one of three outcomes. V(verified). V(contradicted) is a problem, when the object is missing
        where the job says it wrote it, empty, encrypted under another key, not a zip, or its hash or count
        disagrees with its log. V(unchecked), when the check could not tell (no export log found, a log without the field,
        S3 refused). Unchecked exports are reported apart (RV(unchecked)) and checked again by later passes.
      - V(deep) needs C(s3:GetObject) on the exports and their logs, C(s3:ListBucket) on O(s3_bucket) and
        C(kms:Decrypt) on O(kms_key_arn). S3 refusing the download (for example without C(kms:Decrypt)) leaves the
        export unchecked, with a problem naming these permissions.
      - Each mailbox is checked once per level. Changing V(basic) to V(deep) for a campaign deep-checks the
        mailboxes checked at the basic level once, in the next pass; V(deep) to V(basic) checks nothing again.
        A contradicted check is reported (RV(verification_problems), the C(problem) of the mailbox's C(object)
        record in the manifest) and not repeated; the mailbox stays COMPLETED and is not exported again. An
        unchecked one is checked again 15 minutes after its last check or later, at most 10 a pass, so granting
        a permission is enough.
      - V(none) does not check.
      - A pass holding the campaign lock for long (deep checks of large archives) refreshes the lock as it goes.
    type: str
    choices: [basic, deep, none]
    default: basic
  local_manifest:
    description:
      - A local path where a copy of the manifest is written after every save (in check mode, never).
    type: path
  lock_owner:
    description:
      - Who holds the campaign lock during the pass. A random owner is used when not given.
      - The lock is taken at the start of every pass and released at its end; a lock held by another owner that
        has not expired fails the task. The action plugin gives all passes of one task the same owner.
    type: str
  lock_ttl:
    description:
      - How many seconds the lock lasts when a run crashes without releasing it. A running pass refreshes its lock a
        third of this after the last refresh, so a killed run blocks the next one for at most this long.
    type: int
    default: 180
  wait:
    description:
      - Repeat passes until the campaign is done (every mailbox COMPLETED, SKIPPED or FAILED_PERMANENTLY), printing
        one progress line per pass. Handled by the action plugin; the module itself always makes one pass.
      - A task that stops waiting (a timeout, or an interrupted run) loses nothing; running it again resumes.
      - In check mode one pass is made.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait with O(wait=true). A timeout fails the task, saying how far the campaign got.
    type: int
    default: 86400
  poll_interval:
    description:
      - The longest sleep between passes with O(wait=true), in seconds, at least 5.
      - Each pass says when the next is due (when its first running job is expected to have ended, a mailbox held
        by the 24-hour rule may start, or an unchecked export is checked again); the task sleeps until then, at
        least 5 seconds and at most O(poll_interval).
    type: int
    default: 60
  deadline:
    description:
      - When the campaign must be done, ISO 8601 (a date alone means its midnight UTC; without a zone, UTC).
        Defaults to the end of Amazon WorkMail.
      - Every pass estimates when the campaign will end (RV(eta)). When the estimate's late end is later than
        O(deadline) less O(deadline_margin_days), the result (RV(eta.at_risk), RV(eta.warning) and RV(eta.advice)),
        a warning of the task, the progress line of O(wait=true) and the campaign's report say so, with what would
        help (raising O(max_concurrent_jobs) to 10, export jobs the campaign did not start that hold slots,
        failures to fix).
    type: str
    default: "2027-03-31T00:00:00Z"
  deadline_margin_days:
    description:
      - How many days before O(deadline) the estimated end must fall (time to act on failures and check the
        exports), 0 or more.
    type: int
    default: 14
  report_interval:
    description:
      - How often, at most, a pass writes the campaign's report, in seconds (0 or more; V(0) lets every pass write
        it).
      - The report is two objects next to the manifest, C(report.html) (one self-contained page of what needs
        attention, the counts, the estimated end, a chart of the progress and a table of every mailbox that can be
        filtered and sorted) and C(report.csv) (one row per mailbox). Both are encrypted like the manifest. See
        RV(report).
      - A report of 10,000 mailboxes is megabytes, so a pass writes it when the campaign has none yet, when the pass
        finishes the campaign, when the destination stopped it, on what may be the last pass of O(wait=true), and
        otherwise once O(report_interval) seconds have passed since the last report. Beyond 1,000 mailboxes that
        interval grows in proportion (V(600) seconds becomes 100 minutes at 10,000 mailboxes), so that what a
        campaign writes to S3 does not grow with it. In every case it is written only when what it says of the
        mailboxes changed since the last one.
    type: int
    default: 600
  report_local_dir:
    description:
      - A local directory where the pass writes C(report.html) and C(report.csv) too, whenever it writes the report
        to S3, and when these files are missing (in check mode, never).
    type: path
extends_documentation_fragment:
  - mailops.workmail.workmail
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - B(Destination check.) Before a run starts its first job (and in check mode when it would start one), it asks
    KMS and S3 what WorkMail would refuse, three cheap calls that export nothing. The key must be enabled, a
    symmetric encryption key, and in the organization's region (C(DescribeKey)). The bucket must exist in that
    region (C(GetBucketLocation)) and block public access, on the bucket or on the account
    (C(GetPublicAccessBlock)). A fault found fails the task at once, naming each fault, before any job is started.
    A question the caller may not ask is reported in RV(destination_check) and as a warning, never as a fault.
  - B(A broken destination.) When C(StartMailboxExportJob) refuses the destination rather than a mailbox (its
    message names the role, the key, the bucket or the prefix, as for a disabled key or a role whose trust or
    permissions changed), the task fails at once with that cause and the fix, and no mailbox's attempt is used (the
    attempts recorded for the pass are forgotten). So do jobs that FAILED for the destination (their ErrorInfo
    names it); their attempts are marked C(destination_fault) in the manifest and do not count towards
    O(max_attempts). With O(wait=true) the task returns failed after that pass.
  - B(Retries.) Every WorkMail and S3 call is tried again, with a jittered backoff, when AWS throttles
    (C(ThrottlingException), C(SlowDown)), answers with an HTTP 5xx error, or the connection drops; an S3 error
    that remains names the object (the manifest, the lock, an export archive or its export log) and the bucket.
  - B(Order.) Mailboxes are started largest first, with their sizes from C(GetMailboxDetails) (asked once per
    mailbox and campaign).
  - B(Directory.) The users and resources are listed (C(ListUsers), C(ListResources)) by the first pass of a
    campaign, then again when the selection options change or the last reading is a day old; the passes in between
    read no directory.
  - B(Selection changes.) Mailboxes found by a later reading are added to the campaign; mailboxes already in the
    manifest stay in it. A selection that matches no mailbox fails the task, naming the options that made it empty,
    instead of reporting a campaign of nothing as done.
  - B(Check mode) lists the mailboxes and the jobs and reports which mailboxes a pass would start now
    (RV(would_start)), which would wait for a slot (RV(queued)) and which AWS's 24-hour rule holds back
    (RV(blocked_24h)); it starts nothing, writes no manifest and takes no lock.
  - B(IAM.) The caller needs C(workmail:ListUsers), C(workmail:ListResources), C(workmail:GetMailboxDetails),
    C(workmail:ListMailboxExportJobs), C(workmail:DescribeMailboxExportJob), C(workmail:StartMailboxExportJob),
    C(iam:PassRole) on O(role_arn), C(s3:GetObject), C(s3:PutObject) and C(s3:DeleteObject) under O(s3_prefix),
    C(s3:ListBucket) on O(s3_bucket) (without it S3 answers a missing manifest or lock with AccessDenied instead of
    NoSuchKey, and the first pass of a campaign fails), and C(kms:GenerateDataKey) and C(kms:Decrypt) on the key.
    The destination check reads C(kms:DescribeKey) on the key, C(s3:GetBucketLocation) and
    C(s3:GetBucketPublicAccessBlock) on the bucket and C(s3:GetAccountPublicAccessBlock); without them it is
    skipped with a warning.
  - B(Manifest object records.) Each COMPLETED mailbox's C(object) record holds C(key), C(size), C(etag), C(sse),
    C(kms_key_id), C(verified), C(problem), C(level) (V(basic) or V(deep)) and C(checked) (when); a deep check adds
    C(sha384) (of the archive), C(archive_entries), C(log_key), C(log_sha384) and C(log_messages) (what the export
    log says).
  - B(Crash recovery.) Every attempt is recorded in the manifest before its C(StartMailboxExportJob), with its
    client token, which also goes into the job's description. A run that dies between the two is recovered by the
    next pass, which finds the job in the job list by that token, or repeats the start with the same token, which
    AWS answers with the existing job. The job list covers 7 days; run the campaign again within 7 days of a crash
    (any schedule does) so that such a job is found by its token rather than started again.
"""

EXAMPLES = r"""
# The export role, the KMS key (with the alias alias/workmail-export) and the bucket must exist already,
# in the organization's region.

- name: Export every mailbox of the organization and wait until all are exported
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
      organization_id: m-45ae4b4c332ce333df01b42b08b73797
  tasks:
    - name: Look up the export key's ARN (an alias is not accepted)
      amazon.aws.kms_key_info:
        alias: alias/workmail-export
      register: export_key

    - name: Export all mailboxes, at most 10 at a time, largest first
      mailops.workmail.workmail_organization_export:
        campaign: end-of-support-2026
        role_arn: arn:aws:iam::123456789012:role/workmail-export
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/campaign
        local_manifest: "{{ playbook_dir }}/end-of-support-2026.manifest.json"
        skip_system_users: true
        # dave's mailbox was exported by hand today; AWS allows one export per mailbox every 24 hours.
        exclude:
          - dave@example.com
        wait: true
        wait_timeout: 86400
        poll_interval: 5
      register: campaign

    - name: Show the outcome
      ansible.builtin.debug:
        msg: >-
          {{ campaign.summary.completed }} of {{ campaign.summary.total }} mailboxes exported,
          {{ campaign.summary.verified }} verified; manifest {{ campaign.manifest.s3_uri }}

- name: Make one pass over a selection of mailboxes (for example from a scheduled job template)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws:
      region: us-east-1
    group/mailops.workmail.workmail:
      region: us-east-1
      organization_id: m-45ae4b4c332ce333df01b42b08b73797
  tasks:
    - name: Look up the export key's ARN
      amazon.aws.kms_key_info:
        alias: alias/workmail-export
      register: export_key

    - name: Start or record what is due, without waiting
      mailops.workmail.workmail_organization_export:
        campaign: rooms
        role_arn: arn:aws:iam::123456789012:role/workmail-export
        kms_key_arn: "{{ export_key.kms_keys[0].key_arn }}"
        s3_bucket: example-workmail-exports
        s3_prefix: workmail/rooms
        include:
          - "*room*"
        max_concurrent_jobs: 2
      register: rooms

    - name: Report progress
      ansible.builtin.debug:
        msg: "done={{ rooms.done }}, started {{ rooms.started | map(attribute='email') | list }}"
"""

RETURN = r"""
done:
  description: Whether the campaign is over, every mailbox COMPLETED, SKIPPED or FAILED_PERMANENTLY.
  returned: always
  type: bool
  sample: false
summary:
  description: How many mailboxes of the campaign are in each state, and how many exported objects were verified.
  returned: always
  type: dict
  contains:
    total:
      description: Mailboxes in the campaign.
      type: int
      returned: always
      sample: 150
    completed:
      description: Mailboxes exported.
      type: int
      returned: always
      sample: 37
    running:
      description: Mailboxes with a running job.
      type: int
      returned: always
      sample: 10
    pending:
      description: Mailboxes without a job yet.
      type: int
      returned: always
      sample: 103
    failed:
      description: Mailboxes whose last job failed and that will be retried.
      type: int
      returned: always
      sample: 0
    failed_permanently:
      description: Mailboxes given up after O(max_attempts) failed jobs.
      type: int
      returned: always
      sample: 0
    skipped:
      description: Mailboxes deleted before their export started.
      type: int
      returned: always
      sample: 0
    verified:
      description: Completed mailboxes whose object passed its check (at the level recorded in the manifest).
      type: int
      returned: always
      sample: 37
    unchecked:
      description: Completed mailboxes whose object the last check could not tell (see RV(unchecked)).
      type: int
      returned: always
      sample: 0
  sample: {total: 150, completed: 37, running: 10, pending: 103, failed: 0, failed_permanently: 0, skipped: 0, unchecked: 0,
           verified: 37}
manifest:
  description: Where the campaign manifest is.
  returned: always
  type: dict
  contains:
    s3_uri:
      description: C(s3://<bucket>/<key>) of the manifest.
      type: str
      returned: always
      sample: s3://example-workmail-exports/workmail/campaign/mailops-campaigns/end-of-support-2026/manifest.json
    s3_bucket:
      description: The bucket of the manifest.
      type: str
      returned: always
      sample: example-workmail-exports
    s3_key:
      description: The key of the manifest.
      type: str
      returned: always
      sample: workmail/campaign/mailops-campaigns/end-of-support-2026/manifest.json
    local_path:
      description: O(local_manifest), or V(null).
      type: str
      returned: always
      sample: /srv/exports/end-of-support-2026.manifest.json
sealed_part_problems:
  description:
    - The sealed parts of the manifest this pass found missing or altered, each with how many mailboxes it holds and
      what to do (a warning says each too). A pass lists the parts' names when it reads the directory (once a day,
      and before the campaign can be done), and reads a part when it writes the report or O(local_manifest), or when
      a deeper O(verify) puts its mailboxes back (a part it cannot read stays sealed, and the pass goes on).
  type: list
  elements: str
  returned: when the pass ran (not in check mode)
  sample: []
local_manifest_error:
  description:
    - Why O(local_manifest) could not be written (a warning says it too), or V(null). The manifest was saved in S3
      all the same; the pass does not fail for its local copy.
  type: str
  returned: when the pass ran (not in check mode)
  sample: null
manifest_exists:
  description: Whether the manifest exists in S3 (false only in check mode, for a campaign never run).
  returned: always
  type: bool
  sample: true
started_total:
  description:
    - How many export jobs the task started, over all its passes (with O(wait=true) the action plugin totals them).
    - RV(started) lists those of the last pass only.
  returned: always
  type: int
  sample: 11
started:
  description: The mailboxes whose job this pass started (with O(wait=true), the last pass; see RV(started_total)).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The WorkMail id of the mailbox.
      type: str
      returned: always
      sample: 12345678-1234-1234-1234-123456789012
    email:
      description: Its email address.
      type: str
      returned: always
      sample: alice@example.com
    job_id:
      description: The id of the job.
      type: str
      returned: always
      sample: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1
would_start:
  description: In check mode, the mailboxes a pass would start now, largest first.
  returned: in check mode
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: alice@example.com, size_mb: 120.0, attempt: 1}]
queued:
  description:
    - The next 100 mailboxes to start of those waiting only for a free slot (PENDING, or FAILED with attempts left
      and a retry that is due), in the order they would start, largest first; RV(queued_total) counts them all.
      Those in RV(waiting_24h) and RV(blocked_24h) are not among them.
    - In check mode, without those in RV(would_start).
  returned: always
  type: list
  elements: dict
  sample: [{id: r-0123456789abcdef0123456789abcdef, email: room1@example.com, size_mb: 5.0}]
queued_total:
  description:
    - How many mailboxes wait only for a free slot, RV(queued) and those after its first 100.
    - In check mode, without those in RV(would_start).
  returned: always
  type: int
  sample: 9870
failures:
  description: The mailboxes given up (FAILED_PERMANENTLY), with the error of their last job.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, name: bob, attempts: 3,
            job_id: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1, error_info: "Access denied"}]
verification_problems:
  description:
    - Every COMPLETED mailbox of the campaign whose export its last check contradicted (in this pass or an earlier
      one), with the C(level) of the check, what is wrong and when it was C(checked). These mailboxes are not
      exported again; look at the object, and export the mailbox with M(mailops.workmail.workmail_mailbox_export)
      or a new campaign if needed.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, level: deep, checked: "2026-11-30T10:00:00Z",
            problem: "sha384 mismatch: s3://example-exports/workmail/... has SHA-384 ..., its export log ... says ..."}]
unchecked:
  description:
    - Every COMPLETED mailbox whose export its last check could not tell (no export log found, S3 refused, ...),
      with the C(level), why and when it was C(checked). Not a problem by itself; later passes check them again.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, level: deep, checked: "2026-11-30T10:00:00Z",
            problem: "no export log found next to s3://example-exports/workmail/.../job.zip; looked for ..."}]
layout:
  description:
    - Where the campaign's checks found the archives AWS wrote, as recorded in the manifest (C(layout)). C(found_by)
      counts the archives by the rule that found them. V(s3_path) means at the key the job's C(S3Path) names.
      V(s3_path_folder) means in C(S3Path) read as a folder. V(mailbox_folder), V(email_folder) and V(prefix)
      mean in the mailbox's folder, its email's folder and the prefix. V(null) before the first check.
    - C(folders) counts them by the folder they were in. V(entity) is the mailbox's folder under the prefix, V(email)
      its email's, V(prefix) the prefix itself and V(other) anywhere else. Before a mailbox is started, only the
      kinds of folder found so far are looked in for an export of it that the manifest lost (all of them before the
      first check, or once an archive was found elsewhere).
    - An export found by another rule than V(s3_path) tells how the service lays out its exports; see the
      collection's C(docs/undocumented.md).
  returned: always
  type: dict
  sample: {found_by: {s3_path: 148, s3_path_folder: 2}, folders: {entity: 150}}
waiting_24h:
  description: FAILED mailboxes whose retry waits for AWS's one-export-per-24-hours rule, with when it may start.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, eligible: "2026-11-23T05:01:02+00:00"}]
repairs:
  description:
    - Where this pass found the manifest disagreeing with AWS or with itself, by mailbox, and how it repaired it
      from AWS, as C({id, email, problem, repair}). For example a job of this campaign the manifest does not record
      (it is recorded, so the mailbox is not exported again), or an entry marked COMPLETED without a completed job
      (it is exported).
    - Before a new attempt of a mailbox starts, the folders under O(s3_prefix) its archive may be in are listed (one
      C(ListObjectsV2) each, up to three until the checks found where AWS puts archives; see RV(layout)), and the
      job of each archive there is described. A COMPLETED job of this campaign found this way (older than the
      job list's 7 days, and missing from the manifest) is recorded and the mailbox is not exported again. Archives
      of other jobs (by hand, another campaign) do not count.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com,
            problem: "the manifest said PENDING, but an attempt of this campaign COMPLETED", repair: recorded it as COMPLETED}]
blocked_24h:
  description:
    - Mailboxes that would start now but for a job of theirs that started less than 24 hours ago, whoever started it
      (an export by hand, another campaign, a job of this campaign whose record was lost), with that job and when the
      mailbox may be exported again. AWS exports a mailbox once every 24 hours; their slots go to the next mailboxes.
  returned: always
  type: list
  elements: dict
  sample: [{id: 12345678-1234-1234-1234-123456789012, email: bob@example.com, job_id: 4e1b3a38-7a8f-4c9b-9a5e-2a64f0b4c0d1,
            eligible: "2026-11-23T05:01:02+00:00"}]
eta:
  description:
    - When the campaign is estimated to end, from the manifest after the pass (no AWS call).
    - The throughput is what the completed jobs showed, in megabytes per hour per slot; the least time a job takes is
      the shortest of them. The remaining mailboxes (pending, running, and failed ones to retry) are laid out on the
      slots the campaign may use (O(max_concurrent_jobs) less those of running jobs it did not start), the largest
      first and none before the 24-hour rule lets it start; the last end is RV(eta.eta). While few jobs have completed
      the estimate is a range, RV(eta.early) to RV(eta.late), that narrows as jobs complete (relative spread
      1/sqrt(completed jobs), at least 10 %).
  returned: always
  type: dict
  contains:
    basis:
      description:
        - V(no_completed_jobs) (no estimate yet; RV(eta.eta), RV(eta.early) and RV(eta.late) are V(null)),
          V(few_jobs) (fewer than 10 completed, a wide range), V(steady) or V(done) (all three are the end of the
          campaign's last job).
      type: str
      returned: always
      sample: few_jobs
    basis_text:
      description: One sentence saying what the estimate is based on.
      type: str
      returned: always
      sample: "from 4 completed jobs (1450 MB per hour per slot, a job takes 6 minutes at least), within 50 %; 146
        mailboxes (61000 MB) to go on 10 slots (max_concurrent_jobs 10)"
    now:
      description: The time of the estimate.
      type: str
      returned: always
    eta:
      description: The estimated end, or V(null).
      type: str
      returned: always
      sample: "2026-12-03T14:00:00+00:00"
    early:
      description: The range's early end, or V(null).
      type: str
      returned: always
    late:
      description: The range's late end, or V(null); compared with the deadline.
      type: str
      returned: always
    mb_per_hour_per_slot:
      description: The throughput the completed jobs showed, or V(null).
      type: float
      returned: always
    completed_jobs_observed:
      description: How many completed jobs the throughput was measured on.
      type: int
      returned: always
    slots:
      description: The slots the estimate lays the jobs out on.
      type: int
      returned: always
    max_concurrent_jobs:
      description: O(max_concurrent_jobs).
      type: int
      returned: always
    foreign_running:
      description: Running jobs the campaign did not start, which hold slots.
      type: int
      returned: always
    remaining_mailboxes:
      description: Mailboxes pending, running or to be retried.
      type: int
      returned: always
    remaining_mb:
      description: Their sizes, in MB.
      type: float
      returned: always
    deadline:
      description: O(deadline).
      type: str
      returned: always
    margin_days:
      description: O(deadline_margin_days).
      type: int
      returned: always
    deadline_with_margin:
      description: The time the late end must not pass.
      type: str
      returned: always
    at_risk:
      description:
        - Whether the late end (or, before any job completed, now) is past RV(eta.deadline_with_margin) while the
          campaign is not done.
      type: bool
      returned: always
    deadline_passed:
      description: Whether the deadline itself has passed while the campaign is not done (RV(eta.warning) says so).
      type: bool
      returned: always
    warning:
      description: Why the campaign is at risk (plainly that the deadline has passed, when it has), or V(null).
      type: str
      returned: always
    advice:
      description:
        - When at risk, what holds the campaign back or would help, as it is (empty otherwise).
        - The mailboxes the 24-hour rule holds and until when, free slots, raising O(max_concurrent_jobs) or ending
          jobs the campaign did not start (each only when it brings the late end sooner, saying whether that would be
          in time), failures to fix.
      type: list
      elements: str
      returned: always
  sample: {basis: few_jobs, eta: "2026-12-03T14:00:00+00:00", early: "2026-12-03T02:00:00+00:00",
           late: "2026-12-04T09:00:00+00:00", mb_per_hour_per_slot: 1450.0, completed_jobs_observed: 4, at_risk: false,
           deadline: "2027-03-31T00:00:00+00:00", margin_days: 14, warning: null, advice: []}
pass:
  description:
    - What this pass did, counted. C(now) is the service's time; C(started), C(completed_now), C(failed_now),
      C(verified_now), C(described), C(listed) (the jobs the pass planned with, all of the job list when it read it,
      else the running and held jobs it knows), C(added) (mailboxes added to the manifest), C(saves) (manifest
      writes of the pass), C(api_calls) per WorkMail operation, C(blocked_24h), C(skipped), C(limit) (a
      LimitExceededException, or V(null)) and C(start_errors) (mailboxes whose C(StartMailboxExportJob) was
      refused, for example a mailbox disabled since the directory was read, as C({id, code, message}); their
      attempt failed and is retried like a failed job).
    - C(verify) is the O(verify) level, C(checked_now) how many objects this pass checked, C(downloaded_bytes) how
      many archive bytes deep checks downloaded, C(verification_problems) the checks of this pass that contradicted
      an export (for example a C(sha384 mismatch)) and C(unchecked_now) those that could not tell (for example
      C(no export log found)), each a list of C({id, level, problem}). C(looked_in_s3) is how many mailboxes
      about to start were looked for in S3 first.
    - C(looked_up_in_page) is how many looks the first page of the job list answered.
    - C(full_listing) says why the pass read the whole job list (V(null) when it did not), C(looked_at) how many
      running jobs it described because they were due a look, C(next_pass_at) when the next pass is due (V(null)
      when the campaign is done) and C(next_pass_in) in how many seconds. C(sealed) is how many finished mailboxes
      the pass sealed into a new part, C(unsealed) how many it put back from parts verified below O(verify).
    - In check mode, C(now), C(listed), C(added), C(updates), C(free_slots), C(foreign_running), C(own_running),
      C(would_start), C(waiting_24h) and C(blocked_24h) (counts).
  returned: always
  type: dict
  sample: {now: "2026-11-22T05:01:02+00:00", listed: 10, started: 10, completed_now: 0, verify: basic, checked_now: 0,
           downloaded_bytes: 0, verification_problems: [], saves: 2}
lock_released:
  description:
    - Whether the pass released the campaign lock (V(null) in check mode). When it could not, the task warns with
      RV(lock_release_error); the lock then expires by itself after O(lock_ttl), and the same O(lock_owner) may take
      it back at once.
  returned: always
  type: bool
  sample: true
lock_release_error:
  description: Why the lock could not be released, or V(null).
  returned: always
  type: str
  sample: null
manifest_recovery:
  description:
    - How the run recovered a campaign manifest that was missing, truncated or invalid, or V(null).
    - Every pass that finds the manifest valid first copies it to C(manifest.previous.json) next to it. A manifest
      that is missing or damaged is recovered from that copy (a damaged one is first copied aside to
      C(manifest.damaged-<time>.json)), then repaired from AWS like any manifest. The jobs of this campaign are
      found in the job list by their client tokens, and its older exports in S3 (see RV(repairs)).
    - A manifest missing without a copy is rebuilt from AWS alone.
  returned: always
  type: dict
  contains:
    problem:
      description: What was wrong with the manifest.
      type: str
    recovered_from:
      description: The copy it was recovered from, or what AWS showed.
      type: str
    copy_updated:
      description: When the copy was last changed.
      type: str
    damaged:
      description: Whether the manifest was there but damaged.
      type: bool
    damaged_kept_at:
      description: Where the damaged manifest was kept.
      type: str
    rebuilt_from_aws:
      description: How many mailboxes were then repaired from AWS.
      type: int
  sample:
    problem: the campaign manifest s3://exports/workmail/mailops-campaigns/eos/manifest.json is missing
    recovered_from: s3://exports/workmail/mailops-campaigns/eos/manifest.previous.json
    copy_updated: "2026-11-30T09:15:02Z"
    damaged: false
    damaged_kept_at: null
    rebuilt_from_aws: 2
destination_check:
  description:
    - What the destination check before the pass's first start found, or V(null) when the pass started nothing.
    - A fault fails the task instead; its message names each fault.
  returned: always
  type: dict
  contains:
    checked:
      description: What was checked and found right (V(key), V(bucket region), V(public access block)).
      type: list
      elements: str
    unchecked:
      description: What could not be checked, and why (the caller lacks a permission, or no answer came).
      type: list
      elements: str
    problems:
      description: Always empty here (a problem fails the task).
      type: list
      elements: str
  sample: {"checked": ["key", "bucket region", "public access block"], "unchecked": [], "problems": []}
lock_owner:
  description: The owner of the campaign lock during the pass (V(null) in check mode).
  returned: always
  type: str
  sample: awx-task-1:4242:3f9c2a1b0d4e
report:
  description:
    - Where the campaign's report is and whether this pass wrote it (see O(report_interval)).
  returned: always
  type: dict
  contains:
    written:
      description: Whether this pass wrote the report to S3.
      type: bool
    reason:
      description: Why it was written, or why not (for example V(report_interval has not passed since the last report)).
      type: str
    error:
      description:
        - Why the report could not be written to S3 (or the manifest could not note it), or V(null).
        - A report that cannot be written does not fail the task (a warning says why).
      type: str
    local_written:
      description:
        - Whether this pass wrote the local copies to O(report_local_dir).
        - Apart from RV(report.written), the S3 report, which a failed local copy does not undo.
      type: bool
    local_error:
      description: Why the local copies could not be written (a warning says it too), or V(null).
      type: str
    html:
      description: The S3 URI of C(report.html).
      type: str
    csv:
      description: The S3 URI of C(report.csv).
      type: str
    html_key:
      description: The S3 key of C(report.html).
      type: str
    csv_key:
      description: The S3 key of C(report.csv).
      type: str
    local_html:
      description: The local copy of C(report.html) in O(report_local_dir) when it exists (this pass or an earlier one wrote it), else V(null).
      type: str
    local_csv:
      description: The local copy of C(report.csv) in O(report_local_dir) when it exists (this pass or an earlier one wrote it), else V(null).
      type: str
  sample:
    written: true
    reason: the campaign had no report yet
    error: null
    html: s3://example-exports/workmail/mailops-campaigns/eos/report.html
    csv: s3://example-exports/workmail/mailops-campaigns/eos/report.csv
    html_key: workmail/mailops-campaigns/eos/report.html
    csv_key: workmail/mailops-campaigns/eos/report.csv
    local_written: false
    local_error: null
    local_html: null
    local_csv: null
passes:
  description: How many passes the task made (set by the action plugin).
  returned: always
  type: int
  sample: 4
"""

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.mailops.workmail.plugins.module_utils.campaign import run_organization_pass
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_DEADLINE_MARGIN_DAYS
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_LOCK_TTL
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_MAX_ATTEMPTS
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_POLL_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_REPORT_INTERVAL
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_VERIFY
from ansible_collections.mailops.workmail.plugins.module_utils.common import DEFAULT_WAIT_TIMEOUT
from ansible_collections.mailops.workmail.plugins.module_utils.common import MAX_RUNNING_JOBS_PER_ORGANIZATION
from ansible_collections.mailops.workmail.plugins.module_utils.common import VERIFY_CHOICES
from ansible_collections.mailops.workmail.plugins.module_utils.errors import WorkMailError
from ansible_collections.mailops.workmail.plugins.module_utils.modules import WorkMailAnsibleModule
from ansible_collections.mailops.workmail.plugins.module_utils.validation import validate_organization_export_params


def warn_about(module, result):
    """The task's warnings of a pass: a lock not released, a manifest recovered, a destination not fully checked,
    an estimated end past the deadline, a report that could not be written."""
    if result.get("lock_release_error"):
        module.warn(result["lock_release_error"])
    recovery = result.get("manifest_recovery")
    if recovery:
        module.warn(
            f"{recovery['problem']}; it was recovered from {recovery['recovered_from']} and repaired from AWS "
            f"({recovery['rebuilt_from_aws']} mailbox(es)); see manifest_recovery"
        )
    for reason in (result.get("destination_check") or {}).get("unchecked", []):
        module.warn(f"Before starting jobs, the run could not check {reason}")
    if result["eta"]["at_risk"]:
        module.warn(f"{result['eta']['warning']}; what would help: {'; '.join(result['eta']['advice'])}")
    for problem in ("error", "local_error"):
        if (result.get("report") or {}).get(problem):
            module.warn(result["report"][problem])
    for problem in result.get("sealed_part_problems") or []:
        module.warn(problem)
    if result.get("local_manifest_error"):
        module.warn(result["local_manifest_error"])


def main():
    argument_spec = dict(
        organization_id=dict(type="str", required=True),
        campaign=dict(type="str", required=True),
        role_arn=dict(type="str", required=True),
        kms_key_arn=dict(type="str", required=True, no_log=False),
        s3_bucket=dict(type="str", required=True),
        s3_prefix=dict(type="str", required=True),
        description=dict(type="str"),
        include_disabled=dict(type="bool", default=False),
        skip_system_users=dict(type="bool", default=False),
        include=dict(type="list", elements="str"),
        exclude=dict(type="list", elements="str"),
        mailboxes=dict(type="list", elements="str"),
        max_concurrent_jobs=dict(type="int", default=MAX_RUNNING_JOBS_PER_ORGANIZATION),
        max_attempts=dict(type="int", default=DEFAULT_MAX_ATTEMPTS),
        verify=dict(type="str", choices=list(VERIFY_CHOICES), default=DEFAULT_VERIFY),
        local_manifest=dict(type="path"),
        lock_owner=dict(type="str"),
        lock_ttl=dict(type="int", default=DEFAULT_LOCK_TTL),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
        poll_interval=dict(type="int", default=DEFAULT_POLL_INTERVAL),
        deadline=dict(type="str", default=DEFAULT_DEADLINE),
        deadline_margin_days=dict(type="int", default=DEFAULT_DEADLINE_MARGIN_DAYS),
        report_interval=dict(type="int", default=DEFAULT_REPORT_INTERVAL),
        report_local_dir=dict(type="path"),
    )
    module = WorkMailAnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("mailboxes", "include"), ("mailboxes", "exclude")],
        supports_check_mode=True,
    )

    try:
        params = validate_organization_export_params(module.params, module.region)
        result = run_organization_pass(
            module.workmail_client(),
            module.s3_gateway(account_settings=True),
            params,
            check_mode=module.check_mode,
            region=module.region,
            kms=module.kms_gateway(),
        )
    except WorkMailError as e:
        module.fail_json_workmail(e)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to run a pass of WorkMail export campaign {module.params['campaign']}")

    warn_about(module, result)
    result["passes"] = 1
    result["started_total"] = len(result.get("started") or [])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
