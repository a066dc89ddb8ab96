# Validation runs and policies moved to the jobs app (jobs 0001 takes over the same tables):
# only Django's state changes here; tables and rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_dataset_column_kinds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="validationrun",
                    name="environment",
                ),
                migrations.RemoveField(
                    model_name="validationrun",
                    name="requested_by",
                ),
                migrations.RemoveField(
                    model_name="validationrun",
                    name="version",
                ),
                migrations.DeleteModel(
                    name="ValidationPolicy",
                ),
                migrations.DeleteModel(
                    name="ValidationRun",
                ),
            ],
            database_operations=[],
        ),
    ]
