"""Readers that turn user-supplied inputs into :class:`~lurewatch.model.Approach` streams.

Every reader is pure over bytes/text it is handed, streams, bounds sizes and raises
:class:`~lurewatch.errors.InputError` (never anything else) on bad input.
"""
