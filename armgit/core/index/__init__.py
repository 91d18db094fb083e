"""The signed index, pure side: building the payload, resolving policies, deciding tool calls.

Nothing here imports at package level, so the runtime can import :mod:`.decide` without pydantic.
"""
