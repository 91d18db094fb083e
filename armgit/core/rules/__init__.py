"""The rules (SPEC section 4), pure judgement over snapshots.

- :mod:`.state`: the state rules at one commit.
- :mod:`.change`: the change rules between two commits; :mod:`.gates`: what a change asks for
  (gates that need approvals, actions that need permissions).
- :mod:`.access`: who may change what (operators, roles, registry admins).
- :mod:`.approvals`: which approvals count for a gate; :mod:`.trust`: whose keys are trusted.
- :mod:`.policy`, :mod:`.ceilings`, :mod:`.widening`, :mod:`.scope`: effective policies (what
  the index carries), policy ceilings, what widens a policy, and what a tenant's files may touch.
- :mod:`.lifecycle`: the states and the steps between them.

Reading the commits they judge is :mod:`armgit.enforce`'s work.
"""
