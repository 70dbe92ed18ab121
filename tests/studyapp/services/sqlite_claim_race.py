"""Run as a script: 20 threads claim and submit on a file SQLite database, print JSON.

With `--active` the study has `allocation: active` and only the even items are drawn
(pi 0.5), so the invariants are checked on the drawn items and none undrawn is served.

Used by test_assignment_concurrency_sqlite.py; pytest-django's SQLite test
database lives in memory and cannot be shared by threads, so this one runs in
its own process against `$CONCORDANCE_VAR_DIR/concordance.sqlite3`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path

N_RATERS, N_ITEMS, K = 20, 20, 3


def main() -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from studyapp.models import Annotation, Domain, Item, Step, Study
    from studyapp.services.annotations import annotation_submit
    from studyapp.services.assignments import assignment_claim_next
    from studyapp.services.participants import rater_for_user

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    active = "--active" in sys.argv
    spec = {"annotation": {"allocation": "active", "allocation_budget": 0.5}} if active else {}
    study = Study.objects.create(slug="race", title="race", overlap=K, spec=spec)
    domain = Domain.objects.create(study=study, name="math")
    for i in range(N_ITEMS):
        drawn = {"allocation_pi": 0.5, "allocation_drawn": i % 2 == 0} if active else {}
        item = Item.objects.create(
            study=study, domain=domain, kind="reasoning", external_id=str(i), content_hash=str(i), **drawn
        )
        Step.objects.create(item=item, index=0, text="A step.")
    users = [get_user_model().objects.create(username=f"r{i}") for i in range(N_RATERS)]
    raters = [rater_for_user(study=study, user=u) for u in users]
    errors: list[str] = []
    claims: list[tuple[int, int]] = []
    barrier = threading.Barrier(N_RATERS)

    def work(rater) -> None:
        try:
            barrier.wait()
            while (a := assignment_claim_next(rater=rater, study=study)) is not None:
                claims.append((rater.id, a.item_id))
                annotation_submit(assignment=a, step_labels={0: 1})
        except Exception as error:  # reported to the test
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(r,)) for r in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pairs = list(Annotation.objects.values_list("item_id", "rater_id"))
    print(
        json.dumps(
            {
                "errors": errors,
                "claims": len(claims),
                "distinct_claims": len(set(claims)),
                "annotations": len(pairs),
                "distinct_pairs": len(set(pairs)),
                "per_item": sorted(Counter(i for i, _ in pairs).values()),
                "undrawn_served": Annotation.objects.filter(item__allocation_drawn=False).count(),
            }
        )
    )


if __name__ == "__main__":
    main()
