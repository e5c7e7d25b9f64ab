"""The ``workflow.patched`` ids of JobWorkflow, in one place.

``JOB_V2`` marks a run of today's job: rounds go through the SKU's listing entity (issue 13)
and the search attributes follow each status transition (issue 16). Histories without it
(jobs started before the entity) replay the old paths: the job's own publish activities
(``workflows/legacy_publish.py``) and no search attribute upserts. One id for both, not one
per change: every id a run records costs it a marker and a ``TemporalChangeVersion`` search
attribute upsert (2 history events per job, issue 13's events budget), and neither change
ever ran without the other. Its string stays "listing-entity", the id first recorded.

Patches that mark only some runs keep their own ids: ``awaiting-input`` (a job that asks for
fields, issue 15) and ``completion-callbacks`` (a job with a callback URL, issue 16).
"""

JOB_V2 = "listing-entity"
