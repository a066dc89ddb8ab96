# Batch jobs and worker heartbeats moved to the jobs app (jobs 0001 takes over the same
# tables): only Django's state changes here; tables and rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("serving", "0003_deployment_archived_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="batchjob",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="batchjob",
                    name="dataset",
                ),
                migrations.RemoveField(
                    model_name="batchjob",
                    name="version",
                ),
                migrations.DeleteModel(
                    name="WorkerHeartbeat",
                ),
                migrations.DeleteModel(
                    name="BatchJob",
                ),
            ],
            database_operations=[],
        ),
    ]
