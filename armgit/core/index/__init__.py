"""The signed index, pure side: building the payload, deciding tool calls.

Policies are resolved by :mod:`armgit.core.rules.policy` (the widening rule uses the same).

Nothing here imports at package level, so the runtime can import :mod:`.decide` without pydantic.
"""
