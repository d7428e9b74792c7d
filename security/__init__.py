"""The attack suite: real tools against a live ``musicrec serve`` (run by ``make security``)."""
