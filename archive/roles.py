"""The three roles (Django groups) and the permissions each holds."""

from __future__ import annotations

ROLES: dict[str, list[tuple[str, str, str]]] = {
    "student": [],
    "teacher": [
        ("archive", "case", "add_case"),
        ("archive", "case", "change_case"),
        ("archive", "case", "view_case"),
        ("archive", "upload", "add_upload"),
        ("archive", "upload", "view_upload"),
        ("archive", "diagnosis", "view_diagnosis"),
    ],
    "curator": [
        ("archive", "case", "add_case"),
        ("archive", "case", "change_case"),
        ("archive", "case", "view_case"),
        ("archive", "case", "publish_case"),
        ("archive", "upload", "view_upload"),
        ("archive", "uploaditem", "view_uploaditem"),
        ("archive", "diagnosis", "add_diagnosis"),
        ("archive", "diagnosis", "change_diagnosis"),
        ("archive", "diagnosis", "delete_diagnosis"),
        ("archive", "diagnosis", "view_diagnosis"),
        ("archive", "tag", "add_tag"),
        ("archive", "tag", "change_tag"),
        ("archive", "tag", "view_tag"),
        ("archive", "series", "view_series"),
    ],
}


def ensure_roles(group_model, permission_model) -> None:
    """Create the groups and grant their permissions; running it again changes nothing."""
    for role, perms in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for app_label, model, codename in perms:
            group.permissions.add(
                permission_model.objects.get(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename=codename,
                )
            )
