"""The sample frame's scaffolding: studies, phases, districts, organisations and roles, one
module each (`common` holds what they share). Every change goes through a `save_*` or
`delete_*` function of the thing's module."""
