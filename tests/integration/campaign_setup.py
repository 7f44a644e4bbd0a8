"""Set-up shared by the integration tests: organizations of given mailbox sizes, and the arguments of an export task.

The ``destination`` fixture (conftest.py) provisions a working export destination for the test module's ``org``.
"""


def sized_organization(aws, alias, user_sizes, resource_sizes=(), region="us-east-1"):
    """Add an organization of users user00, user01, ... and resources room0, room1, ... of the given sizes (MB)."""
    users = [
        {"name": f"user{index:02d}", "email": f"user{index:02d}@{alias}.example", "size_mb": size}
        for index, size in enumerate(user_sizes)
    ]
    resources = [
        {"name": f"room{index}", "email": f"room{index}@{alias}.example", "size_mb": size}
        for index, size in enumerate(resource_sizes)
    ]
    return aws.add_organizations([{"alias": alias, "region": region, "users": users, "resources": resources}])[0]


def destination_args(org, destination, **extra):
    """A task's arguments for exporting from ``org`` to ``destination`` (of provision_export_destination)."""
    args = {
        "organization_id": org["id"],
        "role_arn": destination["role_arn"],
        "kms_key_arn": destination["kms_key_arn"],
        "s3_bucket": destination["s3_bucket"],
        "s3_prefix": destination["s3_prefix"],
        "region": destination["region"],
    }
    args.update(extra)
    return args
