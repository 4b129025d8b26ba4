"""The three roles as Django groups, with the permissions each needs."""

from django.db import migrations

ROLES = {
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


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label,
                                       content_type__model=model, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
