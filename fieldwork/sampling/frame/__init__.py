"""The sample frame's scaffolding: studies, phases, districts, organisations and roles, one
module each (`common` holds what they share).

Every change goes through a `save_*` or `delete_*` function of the thing's module. A change that
breaks a rule raises `common.FrameFieldError` (a `FrameError`) naming the form field the message
belongs beside; list functions load a page of rows, counts included, in one query (plus one
COUNT) whatever the size of the study.
"""
