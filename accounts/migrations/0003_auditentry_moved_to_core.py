# AuditEntry now lives in core (core 0001 takes over the same table); drop it from this app's
# state only, so the table and its rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_key_limits_rotation_role_limits"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
