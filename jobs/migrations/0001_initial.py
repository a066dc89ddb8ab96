# The gpu-queue work moved here from registry (validation) and serving (batch jobs, heartbeats).
# The tables keep their names (db_table), so these operations change Django's state only.

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('serving', '0004_jobs_moved_to_jobs_app'),
        ('registry', '0004_validation_moved_to_jobs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WorkerHeartbeat',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('hostname', models.CharField(max_length=255, unique=True)),
                        ('pid', models.PositiveIntegerField(default=0)),
                        ('queues', models.JSONField(default=list)),
                        ('device', models.CharField(blank=True, max_length=40)),
                        ('gpu', models.JSONField(blank=True, help_text='NVML facts; null on CPU workers.', null=True)),
                        ('cpu_percent', models.FloatField(blank=True, null=True)),
                        ('memory', models.JSONField(blank=True, default=dict)),
                        ('runtime', models.JSONField(blank=True, default=dict)),
                        ('current_task', models.CharField(blank=True, max_length=255)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('last_seen', models.DateTimeField(db_index=True)),
                    ],
                    options={
                        'db_table': 'serving_workerheartbeat',
                        'ordering': ['hostname'],
                    },
                ),
                migrations.CreateModel(
                    name='ValidationPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('thresholds', models.JSONField(blank=True, default=dict)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('model', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='validation_policy', to='registry.registeredmodel')),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'registry_validationpolicy',
                    },
                ),
                migrations.CreateModel(
                    name='BatchJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('error', models.TextField(blank=True)),
                        ('worker_host', models.CharField(blank=True, max_length=255)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled'), ('error', 'Error')], default='queued', max_length=10)),
                        ('batch_size', models.PositiveIntegerField(default=4096, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(65536)])),
                        ('rows_total', models.PositiveBigIntegerField(default=0)),
                        ('rows_done', models.PositiveBigIntegerField(default=0)),
                        ('rows_per_second', models.FloatField(default=0.0)),
                        ('cancel_requested', models.BooleanField(default=False)),
                        ('result_dir', models.CharField(blank=True, help_text='Under the artifact root.', max_length=500)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batch_jobs', to='registry.dataset')),
                        ('version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batch_jobs', to='registry.modelversion')),
                    ],
                    options={
                        'db_table': 'serving_batchjob',
                        'ordering': ['-created_at', '-id'],
                        'abstract': False,
                        'indexes': [models.Index(fields=['status', 'heartbeat_at'], name='serving_bat_status_13d771_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='ValidationRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('error', models.TextField(blank=True)),
                        ('worker_host', models.CharField(blank=True, max_length=255)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('passed', 'Passed'), ('failed', 'Failed'), ('error', 'Error')], default='queued', max_length=10)),
                        ('progress', models.FloatField(default=0.0, help_text='0..1')),
                        ('current_check', models.CharField(blank=True, max_length=40)),
                        ('policy', models.JSONField(default=dict, help_text='The thresholds this run applied.')),
                        ('checks', models.JSONField(default=list, help_text='[{check, passed, metrics, message}]')),
                        ('log', models.TextField(blank=True)),
                        ('environment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='registry.environmentspec')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='validation_runs', to='registry.modelversion')),
                    ],
                    options={
                        'db_table': 'registry_validationrun',
                        'ordering': ['-created_at', '-id'],
                        'abstract': False,
                        'indexes': [models.Index(fields=['status', 'heartbeat_at'], name='registry_va_status_73b64b_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
