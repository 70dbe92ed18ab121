# Step.item loses its own index: the unique constraint step_unique (item_id, index)
# leads with item_id and serves every lookup, and one index fewer makes each step
# insert cheaper (load_study writes tens of thousands). Only the index is dropped;
# AlterField alone would drop and re-validate the foreign key on PostgreSQL and
# rebuild the table on SQLite. The name is the one Django gave it on both.

import django.db.models.deletion
from django.db import migrations, models

INDEX = "studyapp_step_item_id_71595c83"


class Migration(migrations.Migration):

    dependencies = [
        ('studyapp', '0006_participant_accounts_rate_limits'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "studyapp_step" ("item_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='step',
                    name='item',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='studyapp.item'),
                ),
            ],
        ),
    ]
