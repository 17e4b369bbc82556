// Views: the view store (SQLite by default), schema from view definitions, shadow tables, checkpoints.
