"""Importing a sample frame: from a CSV file (upload page, `flask import-frame`) or from rows of
data (the API), checked whole before anything is written, then written in one transaction.

- `columns`: the columns and their limits (docs/import-format.md is the same table);
- `reader`: a CSV file into rows (encoding, header, quoting); `rows`: rows given as data;
- `checks` with `lookups`, `frame_things` and `people`: the rules, making an `ImportPlan`;
- `writer`: writing a plan in bulk; `uploads`: files kept between preview and confirmation;
- `participant_check`: the same rules for one participant saved on its own.
"""
