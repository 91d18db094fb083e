"""The web view (SPEC section 13): a static, read-only site of the registry at one commit.

- :mod:`.collect` (I/O) reads what the pages show: the registry at the commit
  (:mod:`armgit.registry`), its change records (:mod:`armgit.audit`), and the open proposals
  with the gates they still lack (:mod:`.proposals`, judged by :mod:`armgit.enforce.ranges`).
- :mod:`.semver`, :mod:`.views` (the Directory, lineage, shared facts), :mod:`.pages` (a
  version, template or instance), :mod:`.fleet` (Policies, Deployments, Operators) and
  :mod:`.records` (the change records decoded from ``armgit audit``'s lines, the CSV cut from
  them) are pure: rows and page data, integrity, lineage, effective policies
  (:mod:`armgit.core.rules.policy`), timelines.
- :mod:`.render` (I/O) renders the pages with Jinja2 (imported lazily: nothing else pays for
  it) and writes the site, with the data the Directory and the Audit filter in ``data/*.js``
  (scripts, so that the site works from ``file://``) and the static files of ``static/``;
  :mod:`.spread` (I/O: worker processes) deals a fleet's per-entity pages to forked workers.

The output is deterministic: the same commit gives the same bytes.
"""
