-- The worklist row of each study (the JSON object of its list fields), rendered by the study repo
-- whenever the study changes: a page of the worklist is then one column per study instead of every
-- column (DuckDB's cost of fetching a few rows is per column). NULL = to be rendered again; start-up
-- renders every NULL row, so the rows of this migration are rendered on the first start after it.
ALTER TABLE study ADD COLUMN list_row VARCHAR;
