-- The queue listing's JSON object of each task, rendered by the repo whenever the task changes:
-- listing 10,000 tasks is then one string aggregation instead of 10,000 rows of Python objects.
ALTER TABLE send_task ADD COLUMN row_json VARCHAR DEFAULT '';
