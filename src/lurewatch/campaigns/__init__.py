"""Campaign detection: groups approaches that belong together (issue 4).

So far: the text-similarity core, :mod:`lurewatch.campaigns.signatures` (pure functions over strings
and NumPy arrays). Its names are not re-exported here, so that ``lurewatch.campaigns.signatures`` stays
the module and not the function of the same name.
"""

__all__: list[str] = []
