"""Business services: plain functions that take a session and ``now``.

They never touch the request, flash or the wall clock; callers commit unless a
function says it commits.
"""
